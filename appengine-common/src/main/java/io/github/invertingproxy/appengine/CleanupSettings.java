package io.github.invertingproxy.appengine;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/** What {@link ExchangeCleanup} removes: exchanges past an age, and, only if asked, stale backends. */
public final class CleanupSettings {
  /** PROTOCOL.md: the original deletes requests and responses older than 2 minutes. */
  public static final Duration DEFAULT_EXCHANGE_MAX_AGE = Duration.ofMinutes(2);

  private final Duration exchangeMaxAge;
  private final Duration backendExpiry;

  private CleanupSettings(Duration exchangeMaxAge, Duration backendExpiry) {
    this.exchangeMaxAge = exchangeMaxAge;
    this.backendExpiry = backendExpiry;
  }

  public static CleanupSettings defaults() {
    return new CleanupSettings(DEFAULT_EXCHANGE_MAX_AGE, null);
  }

  /**
   * @param exchangeMaxAge exchanges older than this are deleted, finished or not; it must exceed the
   *     proxy's response timeout, or a slow exchange could vanish while its client still waits
   * @param backendExpiry delete backend records whose agent has not polled for this long; empty
   *     (the default) keeps records until an administrator deletes them
   */
  public static CleanupSettings of(Duration exchangeMaxAge, Optional<Duration> backendExpiry) {
    requireNonNull(exchangeMaxAge, "exchangeMaxAge");
    requireNonNull(backendExpiry, "backendExpiry");
    if (exchangeMaxAge.isNegative() || exchangeMaxAge.isZero()) {
      throw new IllegalArgumentException("exchangeMaxAge must be positive, was " + exchangeMaxAge);
    }
    Duration expiry = backendExpiry.orElse(null);
    if (expiry != null && expiry.compareTo(RegistrySettings.LIVE_WINDOW) < 0) {
      throw new IllegalArgumentException("backendExpiry " + expiry
          + " is shorter than the 5-minute live window: live backends would be deleted");
    }
    return new CleanupSettings(exchangeMaxAge, expiry);
  }

  public Duration exchangeMaxAge() {
    return exchangeMaxAge;
  }

  public Optional<Duration> backendExpiry() {
    return Optional.ofNullable(backendExpiry);
  }
}
