package io.github.invertingproxy.agent.proxy;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter, as the original agent waits after a failed poll: the first wait
 * is {@code first}, each further one doubles, never more than {@code cap}, each scaled by a random
 * factor in {@code [1 - jitter, 1 + jitter]} so that many agents do not retry in step.
 */
public final class Backoff {
  static final Duration FIRST = Duration.ofMillis(1);
  static final Duration CAP = Duration.ofSeconds(3);
  public static final double JITTER = 0.1;

  private final long firstNanos;
  private final long capNanos;
  private final double jitter;
  private final DoubleSupplier random;
  private int failures;

  public Backoff() {
    this(FIRST, CAP, JITTER, () -> ThreadLocalRandom.current().nextDouble());
  }

  public Backoff(Duration first, Duration cap, double jitter, DoubleSupplier random) {
    if (first.isNegative() || first.isZero() || cap.compareTo(first) < 0) {
      throw new IllegalArgumentException("need 0 < first <= cap, got first " + first + " and cap " + cap);
    }
    if (jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("jitter must be in [0, 1), was " + jitter);
    }
    this.firstNanos = first.toNanos();
    this.capNanos = cap.toNanos();
    this.jitter = jitter;
    this.random = random;
  }

  /** The wait before the next attempt; each call counts one more failure. */
  public Duration next() {
    long base = capNanos;
    // Past 2^40 any sane cap is reached; stopping there keeps the shift from overflowing.
    if (failures < 40 && (firstNanos << failures) < capNanos) {
      base = firstNanos << failures;
    }
    failures++;
    double factor = 1 - jitter + random.getAsDouble() * 2 * jitter;
    return Duration.ofNanos(Math.round(base * factor));
  }

  /** After a success: the next failure waits {@code first} again. */
  public void reset() {
    failures = 0;
  }
}
