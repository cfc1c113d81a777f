package io.github.invertingproxy.core.memory;

import io.github.invertingproxy.core.spi.ResponseWaiter;
import java.time.Duration;

/**
 * A client's wait without a thread: whom to tell, and when its time is up. Its time runs from when
 * the agent had the whole request, or from the wait's start while it has not.
 */
final class ThreadlessWait {
  /** Whom to tell: of the response, its failure or the wait's end. */
  final ResponseWaiter relay;
  /** When the wait began (System.nanoTime). */
  private final long startNanos;
  private final long maxWaitNanos;

  ThreadlessWait(ResponseWaiter relay, Duration maxWait) {
    this.relay = relay;
    this.startNanos = System.nanoTime();
    this.maxWaitNanos = maxWait.toNanos();
  }

  /** Whether the time is up at {@code now}, given when the agent had the request (0: not yet). */
  boolean isDue(long now, long deliveredNanos) {
    return now - ((deliveredNanos != 0 ? deliveredNanos : startNanos) + maxWaitNanos) >= 0;
  }
}
