package io.github.invertingproxy.appengine;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.GoDuration;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The App Engine flavour's settings, read from the services' {@code web.xml} context parameters (the
 * local runner sets the same parameters from its flags). Every parameter is optional; durations use
 * Go's syntax ({@code 30s}, {@code 2m}).
 *
 * <ul>
 *   <li>{@value #RESPONSE_TIMEOUT}: how long a client waits for its response to begin (then 504)
 *   <li>{@value #PENDING_TIMEOUT}: how long an agent's {@code agent/pending} poll is held
 *   <li>{@value #EXCHANGE_MAX_AGE}: the cleanup deletes exchanges older than this (default 2m)
 *   <li>{@value #BACKEND_EXPIRY}: the cleanup deletes records whose agent has been away this long
 *       (default: never)
 *   <li>{@value #POLL_MAX}: the longest pause between two Memcache checks of a wait (default 20ms)
 * </ul>
 */
public final class AppEngineConfig {
  public static final String RESPONSE_TIMEOUT = "inverting-proxy.response-timeout";
  public static final String PENDING_TIMEOUT = "inverting-proxy.pending-timeout";
  public static final String EXCHANGE_MAX_AGE = "inverting-proxy.exchange-max-age";
  public static final String BACKEND_EXPIRY = "inverting-proxy.backend-expiry";
  public static final String POLL_MAX = "inverting-proxy.poll-max";

  private final ProxySettings proxySettings;
  private final ExchangeSettings exchangeSettings;
  private final CleanupSettings cleanupSettings;

  private AppEngineConfig(ProxySettings proxy, ExchangeSettings exchanges, CleanupSettings cleanup) {
    this.proxySettings = proxy;
    this.exchangeSettings = exchanges;
    this.cleanupSettings = cleanup;
  }

  /**
   * @param parameters the value of a parameter, or null when it is not set
   * @throws IllegalArgumentException naming the parameter whose value is invalid
   */
  public static AppEngineConfig from(Function<String, String> parameters) {
    requireNonNull(parameters, "parameters");
    ProxySettings.Builder proxy = ProxySettings.builder();
    duration(parameters, RESPONSE_TIMEOUT).ifPresent(proxy::responseTimeout);
    duration(parameters, PENDING_TIMEOUT).ifPresent(proxy::pendingTimeout);
    ExchangeSettings.Builder exchanges = ExchangeSettings.builder();
    duration(parameters, POLL_MAX).ifPresent(exchanges::pollMax);
    Duration maxAge = duration(parameters, EXCHANGE_MAX_AGE).orElse(CleanupSettings.DEFAULT_EXCHANGE_MAX_AGE);
    Optional<Duration> expiry = duration(parameters, BACKEND_EXPIRY).filter(d -> !d.isZero());
    try {
      ProxySettings proxySettings = proxy.build();
      if (maxAge.compareTo(proxySettings.responseTimeout()) <= 0) {
        throw new IllegalArgumentException(EXCHANGE_MAX_AGE + " " + GoDuration.format(maxAge) + " must exceed "
            + RESPONSE_TIMEOUT + " " + GoDuration.format(proxySettings.responseTimeout())
            + ", or the cleanup could delete an exchange whose client still waits");
      }
      return new AppEngineConfig(proxySettings, exchanges.build(), CleanupSettings.of(maxAge, expiry));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid App Engine settings: " + e.getMessage(), e);
    }
  }

  public ProxySettings proxySettings() {
    return proxySettings;
  }

  public ExchangeSettings exchangeSettings() {
    return exchangeSettings;
  }

  public CleanupSettings cleanupSettings() {
    return cleanupSettings;
  }

  private static Optional<Duration> duration(Function<String, String> parameters, String name) {
    String value = parameters.apply(name);
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    try {
      Duration d = GoDuration.parse(value);
      if (d.isNegative()) {
        throw new IllegalArgumentException("negative duration");
      }
      return Optional.of(d);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("context parameter " + name + "=\"" + value + "\" is invalid: "
          + e.getMessage(), e);
    }
  }
}
