package io.github.invertingproxy.core.memory;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.protocol.BackendRecord;
import java.time.Clock;
import java.time.Duration;
import org.junit.Test;

public class InMemoryBackendRegistryTest {
  private final InMemoryBackendRegistry registry =
      InMemoryBackendRegistry.transientRegistry(Duration.ofMinutes(1), Clock.systemUTC());

  private void add(String id, String backendUser) throws Exception {
    registry.add(BackendRecord.builder().id(id).endUser("allUsers").backendUser(backendUser).pathPrefixes("/").build());
  }

  @Test
  public void onlyTheRecordsBackendUserMayServeIt() throws Exception {
    add("app", "agent@example.com");
    assertTrue(registry.agentMayServe(AgentAccount.of("agent@example.com"), "app"));
    assertTrue(registry.agentMayServe(AgentAccount.of("Agent@Example.com"), "app"));
    assertFalse(registry.agentMayServe(AgentAccount.of("other@example.com"), "app"));
  }

  @Test
  public void nobodyMayServeAnUnknownOrRemovedBackend() throws Exception {
    assertFalse(registry.agentMayServe(AgentAccount.unrestricted(), "app"));
    add("app", "agent@example.com");
    registry.markUsed("app");
    assertTrue(registry.agentMayServe(AgentAccount.unrestricted(), "app"));
    registry.delete("app");
    assertFalse(registry.agentMayServe(AgentAccount.unrestricted(), "app"));
    assertFalse(registry.agentMayServe(AgentAccount.of("agent@example.com"), "app"));
  }
}
