package io.github.invertingproxy.websocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The open relays of one process (the proxy, or one agent): starts them, counts them, and closes
 * them all on shutdown. Owns one timer thread for their keepalives.
 */
public final class Relays implements AutoCloseable {
  private final Set<FrameRelay> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong held = new AtomicLong();
  private final AtomicLong maxHeld = new AtomicLong();
  private final ScheduledThreadPoolExecutor timer;
  private final RelayLimits limits;

  public Relays(RelayLimits limits, String threadName) {
    this.limits = limits;
    this.timer = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread t = Executors.defaultThreadFactory().newThread(runnable);
      t.setName(threadName);
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
  }

  public RelayLimits limits() {
    return limits;
  }

  /** The keepalive timer; other sockets of the process schedule their pings on it too. */
  public ScheduledExecutorService timer() {
    return timer;
  }

  /** A new leg bounded by these relays' limits. */
  public Leg leg(String name, int codeWhenLost) {
    return new Leg(name, codeWhenLost, limits);
  }

  /** Joins two open legs and starts relaying between them. */
  public FrameRelay join(String label, Leg a, Leg b) {
    FrameRelay relay = new FrameRelay(label, a, b, limits, timer, delta -> {
      long now = held.addAndGet(delta);
      maxHeld.accumulateAndGet(now, Math::max);
    }, open::remove);
    open.add(relay);
    relay.start();
    return relay;
  }

  /** Relays whose sockets are not both closed yet. */
  public int openCount() {
    return open.size();
  }

  /** Payload bytes currently taken from one side and not yet written to the other. */
  public long bytesHeld() {
    return held.get();
  }

  /** The most {@link #bytesHeld()} ever was. */
  public long maxBytesHeld() {
    return maxHeld.get();
  }

  /** Closes every open relay's sockets with {@code code}. */
  public void closeAll(int code, String reason) {
    for (FrameRelay relay : open) {
      relay.closeBoth(code, reason);
    }
  }

  /** Waits up to {@code millis} for every relay to finish; true when none is left. */
  public boolean awaitNoneOpen(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000;
    while (!open.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return open.isEmpty();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
