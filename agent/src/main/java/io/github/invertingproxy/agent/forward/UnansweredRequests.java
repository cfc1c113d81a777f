package io.github.invertingproxy.agent.forward;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The requests fetched from the proxy whose response has not begun to go back. Whoever takes one
 * answers it: the request's own forwarding, or, when the agent stops, the shutdown, which answers
 * each at once so that no client waits for the proxy's timeout.
 */
final class UnansweredRequests {
  private final Set<String> ids = ConcurrentHashMap.newKeySet();
  private volatile boolean stopping;

  void add(String id) {
    ids.add(id);
  }

  /** Forgets {@code id} without answering it (it is answered some other way, or not at all). */
  void forget(String id) {
    ids.remove(id);
  }

  /** True when the caller is to answer {@code id}: the shutdown has not taken it first. */
  boolean take(String id) {
    return ids.remove(id) || !stopping;
  }

  /** Takes every request still unanswered, for the shutdown to answer; later ones are the shutdown's too. */
  List<String> takeAll() {
    stopping = true;
    List<String> taken = new ArrayList<>();
    for (String id : ids) {
      if (ids.remove(id)) {
        taken.add(id);
      }
    }
    return taken;
  }
}
