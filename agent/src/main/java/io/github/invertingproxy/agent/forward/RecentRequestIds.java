package io.github.invertingproxy.agent.forward;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ids of the requests this agent has started, the most recent {@code capacity} of them. A proxy
 * may list an id in several polls until its response arrives; remembering a bounded number keeps
 * memory flat on an agent that runs for months (the original keeps 1000).
 */
public final class RecentRequestIds {
  public static final int DEFAULT_CAPACITY = 1000;

  private final Map<String, Boolean> ids;

  public RecentRequestIds(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    }
    // Access order: an id that is listed again stays remembered, as in the original's LRU.
    this.ids = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  /** Records {@code id}; true when it was not among the recent ids, that is when it should start now. */
  public synchronized boolean markStarted(String id) {
    return ids.put(id, Boolean.TRUE) == null;
  }

  synchronized int size() {
    return ids.size();
  }
}
