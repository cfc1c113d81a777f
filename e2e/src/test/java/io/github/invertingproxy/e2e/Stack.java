package io.github.invertingproxy.e2e;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.StandaloneServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The stand-alone server in process, with real agents started on demand. */
final class Stack implements AutoCloseable {
  final StandaloneServer server;
  private final List<ForwardingAgent> agents = new ArrayList<>();
  private final FastPaths agentFastPaths;

  Stack(ProxySettings settings) throws Exception {
    this(settings, true);
  }

  /** @param channels whether the server offers agents the channel extension */
  Stack(ProxySettings settings, boolean channels) throws Exception {
    this(settings, channels, FastPaths.ON);
  }

  private Stack(ProxySettings settings, boolean channels, FastPaths agentFastPaths) throws Exception {
    server = StandaloneServer.builder().port(0).settings(settings).lease(Duration.ofSeconds(2)).channels(channels)
        .build().start();
    this.agentFastPaths = agentFastPaths;
  }

  Stack() throws Exception {
    this(FastPaths.ON);
  }

  /** The server and its agents with the fast paths on (the defaults), or all off on both sides. */
  Stack(FastPaths fastPaths) throws Exception {
    this(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(20)).build(),
        fastPaths.on(), fastPaths);
  }

  /** Registers an allUsers backend at {@code /} and starts an agent for it; returns once it is live. */
  ForwardingAgent backend(String id, String target) throws Exception {
    if (server.registry().get(id).isEmpty()) {
      server.registry().add(BackendRecord.builder().id(id).endUser("allUsers").backendUser("agent@example.com")
          .pathPrefixes("/").build());
    }
    return agent(id, target);
  }

  ForwardingAgent agent(String id, String target) throws Exception {
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(server.url()).backendId(id).target(target)
        .credentials(ProxyCredentials.none()).proxyTimeout(Duration.ofSeconds(30))
        .channel(agentFastPaths.on()).chainRequests(agentFastPaths.on()).build();
    agent.start();
    agents.add(agent);
    java.time.Instant started = java.time.Instant.now().minusMillis(5);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (server.registry().lastSeen(id).filter(t -> t.isAfter(started)).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("agent for " + id + " did not poll within 10 s");
      }
      Thread.sleep(10);
    }
    return agent;
  }

  String url() {
    return server.url();
  }

  int port() {
    return server.port();
  }

  @Override
  public void close() throws Exception {
    for (ForwardingAgent a : agents) {
      a.close();
    }
    server.close();
  }
}
