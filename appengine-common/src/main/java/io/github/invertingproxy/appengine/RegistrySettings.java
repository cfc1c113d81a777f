package io.github.invertingproxy.appengine;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How {@link DatastoreBackendRegistry} keeps liveness and last use: exact in Memcache on every
 * poll and request, in Datastore at most once per interval per backend (to save writes).
 */
public final class RegistrySettings {
  /** PROTOCOL.md: an agent is live if it polled within the last 5 minutes. */
  public static final Duration LIVE_WINDOW = Duration.ofMinutes(5);

  private final Duration liveWindow;
  private final Duration seenWriteInterval;
  private final Duration usedWriteInterval;

  private RegistrySettings(Duration liveWindow, Duration seenWriteInterval, Duration usedWriteInterval) {
    this.liveWindow = liveWindow;
    this.seenWriteInterval = seenWriteInterval;
    this.usedWriteInterval = usedWriteInterval;
  }

  public static RegistrySettings defaults() {
    return new RegistrySettings(LIVE_WINDOW, Duration.ofSeconds(30), Duration.ofSeconds(30));
  }

  /**
   * @throws IllegalArgumentException when the write interval is not well inside the live window,
   *     which would let a polling agent look dead once Memcache forgets
   */
  public static RegistrySettings of(Duration liveWindow, Duration seenWriteInterval, Duration usedWriteInterval) {
    requireNonNull(liveWindow, "liveWindow");
    requireNonNull(seenWriteInterval, "seenWriteInterval");
    requireNonNull(usedWriteInterval, "usedWriteInterval");
    if (seenWriteInterval.isNegative() || usedWriteInterval.isNegative()) {
      throw new IllegalArgumentException("write intervals must not be negative");
    }
    if (seenWriteInterval.multipliedBy(2).compareTo(liveWindow) > 0) {
      throw new IllegalArgumentException("seenWriteInterval " + seenWriteInterval
          + " must be at most half the live window " + liveWindow);
    }
    return new RegistrySettings(liveWindow, seenWriteInterval, usedWriteInterval);
  }

  public Duration liveWindow() {
    return liveWindow;
  }

  public Duration seenWriteInterval() {
    return seenWriteInterval;
  }

  public Duration usedWriteInterval() {
    return usedWriteInterval;
  }
}
