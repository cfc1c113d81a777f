package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.BackendActivity;
import io.github.invertingproxy.protocol.BackendStatus;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/** The stand-alone server's backend status: everything is in memory, so every count is cheap. */
public final class InMemoryBackendActivity implements BackendActivity {
  private final InMemoryBackendRegistry registry;
  private final InMemoryExchangeStore store;

  public InMemoryBackendActivity(InMemoryBackendRegistry registry, InMemoryExchangeStore store) {
    this.registry = requireNonNull(registry, "registry");
    this.store = requireNonNull(store, "store");
  }

  @Override
  public Map<String, BackendStatus> statusOf(Collection<String> backendIds) {
    Map<String, Integer> inFlight = store.unfinishedByBackend();
    Map<String, BackendStatus> statuses = new HashMap<>();
    for (String id : backendIds) {
      statuses.put(id, new BackendStatus(registry.lastSeen(id), registry.isLive(id),
          OptionalInt.of(store.agentConnections(id)), OptionalInt.of(inFlight.getOrDefault(id, 0))));
    }
    return statuses;
  }
}
