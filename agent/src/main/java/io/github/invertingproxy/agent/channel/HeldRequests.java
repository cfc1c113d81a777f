package io.github.invertingproxy.agent.channel;

import io.github.invertingproxy.protocol.ChannelFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The bytes of requests that came whole over the channel and wait for a request thread, within one
 * limit ({@code --max-buffered-bytes}). While they fill it, the channel is read no further: the
 * proxy keeps the requests, and the agent's heap holds no more than the limit however slow the
 * backend. Requests in flight are bounded apart from this, by {@code --max-concurrent-requests}.
 */
public final class HeldRequests {
  private final long limit;
  private long used;
  private long peak;
  /** Reads of the channel put off until there is room for another whole frame. */
  private final List<Runnable> resumes = new ArrayList<>();

  public HeldRequests(long limit) {
    if (limit < ChannelFrame.MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("the buffer limit must hold at least one channel frame ("
          + ChannelFrame.MAX_FRAME_BYTES + " bytes), was " + limit);
    }
    this.limit = limit;
  }

  /** A quarter of the heap the JVM may grow to ({@code -Xmx}). */
  public static long defaultLimit() {
    return Math.max(ChannelFrame.MAX_FRAME_BYTES, Runtime.getRuntime().maxMemory() / 4);
  }

  /** {@code threads}, for a request of {@code bytes}: held from when a task is queued until it starts. */
  public Executor holding(long bytes, Executor threads) {
    return task -> {
      hold(bytes);
      try {
        threads.execute(() -> {
          release(bytes);
          task.run();
        });
      } catch (RuntimeException e) {
        release(bytes);
        throw e;
      }
    };
  }

  /** Runs {@code readOn} now while another whole frame fits, else once enough is released. */
  void whenRoom(Runnable readOn) {
    synchronized (this) {
      if (!hasRoom()) {
        resumes.add(readOn);
        return;
      }
    }
    readOn.run();
  }

  private boolean hasRoom() {
    return used + ChannelFrame.MAX_FRAME_BYTES <= limit;
  }

  private synchronized void hold(long bytes) {
    used += bytes;
    peak = Math.max(peak, used);
  }

  private void release(long bytes) {
    List<Runnable> due;
    synchronized (this) {
      used -= bytes;
      if (resumes.isEmpty() || !hasRoom()) {
        return;
      }
      due = new ArrayList<>(resumes);
      resumes.clear();
    }
    due.forEach(Runnable::run);
  }

  public synchronized long used() {
    return used;
  }

  /** The most bytes ever held at once. */
  public synchronized long peak() {
    return peak;
  }

  long limit() {
    return limit;
  }
}
