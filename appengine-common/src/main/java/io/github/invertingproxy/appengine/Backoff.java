package io.github.invertingproxy.appengine;

import java.time.Duration;

/** Poll pauses that start short and grow by half up to a ceiling: quick answers, bounded cost. */
final class Backoff {
  private final long maxNanos;
  private long nextNanos;

  Backoff(Duration initial, Duration max) {
    this.nextNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
  }

  /** The pause to take now; the following one is longer until the ceiling. */
  long nextNanos() {
    long current = nextNanos;
    nextNanos = Math.min(maxNanos, current + current / 2 + 1);
    return current;
  }
}
