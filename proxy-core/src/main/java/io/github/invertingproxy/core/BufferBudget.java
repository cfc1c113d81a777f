package io.github.invertingproxy.core;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The bytes that waiting requests may hold in memory all together. A request whose body is read
 * into memory before it waits (so that it waits without a thread) reserves its size here first and
 * releases it when its exchange ends, however it ends; past the limit it is refused rather than read,
 * so that many waiting clients can never exhaust the heap.
 */
public final class BufferBudget {
  private static final Logger LOG = Logger.getLogger(BufferBudget.class.getName());

  private final long limit;
  private final AtomicLong used = new AtomicLong();
  private final AtomicLong peak = new AtomicLong();
  /** Set by a refusal, cleared by the next grant: one warning for each time the budget runs out. */
  private final AtomicBoolean exhausted = new AtomicBoolean();

  public BufferBudget(long limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("the buffer budget must not be negative, was " + limit);
    }
    this.limit = limit;
  }

  /** A quarter of the heap the JVM may grow to ({@code -Xmx}). */
  public static BufferBudget quarterOfHeap() {
    return new BufferBudget(defaultLimit());
  }

  /** A quarter of {@link Runtime#maxMemory()}. */
  public static long defaultLimit() {
    return Runtime.getRuntime().maxMemory() / 4;
  }

  /** Takes {@code bytes} from the budget, or returns null when they would exceed it. */
  public Reservation tryReserve(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("cannot reserve " + bytes + " bytes");
    }
    long now;
    do {
      now = used.get();
      if (now + bytes > limit) {
        if (exhausted.compareAndSet(false, true)) {
          LOG.warning("buffer budget full: " + now + " of " + limit + " bytes held by waiting requests;"
              + " new requests with a body get 503 until some finish");
        }
        return null;
      }
    } while (!used.compareAndSet(now, now + bytes));
    long held = now + bytes;
    peak.accumulateAndGet(held, Math::max);
    if (exhausted.compareAndSet(true, false) && LOG.isLoggable(Level.INFO)) {
      LOG.info("buffer budget available again: " + held + " of " + limit + " bytes held");
    }
    return new Reservation(bytes);
  }

  /** Bytes reserved now. */
  public long used() {
    return used.get();
  }

  /** The most bytes ever reserved at once; never above {@link #limit()}. */
  public long peak() {
    return peak.get();
  }

  public long limit() {
    return limit;
  }

  /** Bytes taken from the budget; {@link #release} gives them back, once however often it is called. */
  public final class Reservation {
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    private Reservation(long bytes) {
      this.bytes = bytes;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        used.addAndGet(-bytes);
      }
    }
  }
}
