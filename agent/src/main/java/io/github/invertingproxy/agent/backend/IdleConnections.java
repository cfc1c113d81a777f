package io.github.invertingproxy.agent.backend;

import io.github.invertingproxy.agent.http.ConnectionPool;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * The {@link BackendLoop}'s idle connections, most recently used first: at most {@code limit} kept,
 * none longer than {@link ConnectionPool#MAX_IDLE}. Writers take them on their own threads while the
 * selector gives them back, so every step holds this object's lock.
 */
final class IdleConnections {
  private final Deque<LoopConnection> idle = new ArrayDeque<>();
  private final int limit;

  IdleConnections(int limit) {
    this.limit = limit;
  }

  /**
   * The most recently used connection that is still fresh, now running {@code e}; those gone stale
   * on the way are closed. Null when none is left.
   */
  synchronized LoopConnection take(LoopExchange e, long now) {
    LoopConnection c;
    while ((c = idle.pollFirst()) != null) {
      if (now - c.idleSince < ConnectionPool.MAX_IDLE.toNanos()) {
        c.exchange.set(e);
        return c;
      }
      c.closeQuietly();
    }
    return null;
  }

  /** Keeps {@code c} for the next exchange; false when as many as the limit are kept already. */
  synchronized boolean offer(LoopConnection c) {
    if (idle.size() < limit) {
      idle.addFirst(c);
      return true;
    }
    return false;
  }

  /**
   * Forgets {@code c}, which its backend closed (or wrote to unasked) while idle; false, and nothing
   * done, when an exchange took it meanwhile.
   */
  synchronized boolean removeUnlessTaken(LoopConnection c) {
    if (c.exchange.get() != null) {
      return false;
    }
    idle.remove(c);
    return true;
  }

  /** Closes the connections idle since {@link ConnectionPool#MAX_IDLE} or longer. */
  synchronized void closeExpired(long now) {
    for (Iterator<LoopConnection> i = idle.descendingIterator(); i.hasNext(); ) {
      LoopConnection c = i.next();
      if (now - c.idleSince < ConnectionPool.MAX_IDLE.toNanos()) {
        break;
      }
      i.remove();
      c.closeQuietly();
    }
  }

  synchronized int size() {
    return idle.size();
  }

  /** Forgets them all; the loop closes their channels with the rest. */
  synchronized void clear() {
    idle.clear();
  }
}
