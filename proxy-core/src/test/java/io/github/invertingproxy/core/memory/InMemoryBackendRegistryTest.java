package io.github.invertingproxy.core.memory;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.Route;
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

  private void add(String id, String endUser, String prefix) {
    registry.add(BackendRecord.builder().id(id).endUser(endUser).backendUser("agent@example.com").pathPrefixes(prefix)
        .build());
  }

  @Test
  public void theUsersLongestPrefixIsChosenEvenWhenOnlyAShorterOneIsLive() {
    add("nb1", "alice@example.com", "/nb1/");
    add("root", "alice@example.com", "/");
    registry.markSeen("root");
    assertEquals("NOT_LIVE(nb1)", registry.route("alice@example.com", "/nb1/x").toString());
    registry.markSeen("nb1");
    assertEquals("LIVE(nb1)", registry.route("alice@example.com", "/nb1/x").toString());
  }

  @Test
  public void aLiveAllUsersRecordNeverStandsInForTheUsersDeadOne() {
    add("nb1", "alice@example.com", "/nb1/");
    add("public", "allUsers", "/");
    registry.markSeen("public");
    Route route = registry.route("alice@example.com", "/nb1/x");
    assertEquals(Route.Kind.NOT_LIVE, route.kind());
    assertEquals("nb1", route.backend().orElseThrow().id());
  }

  @Test
  public void allUsersRecordsServeWhereNoneOfTheUsersOwnMatches() {
    add("nb1", "alice@example.com", "/nb1/");
    add("public", "allUsers", "/");
    registry.markSeen("public");
    assertEquals("LIVE(public)", registry.route("alice@example.com", "/other").toString());
    assertEquals("LIVE(public)", registry.route("bob@example.com", "/nb1/x").toString());
  }
}
