package io.github.invertingproxy.e2e;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.StandaloneServer;
import io.github.invertingproxy.websocket.RelayLimits;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The stand-alone server with WebSocket limits of the test's choosing, and agents started on demand. */
final class WebSocketStack implements AutoCloseable {
  final StandaloneServer server;
  private final List<ForwardingAgent> agents = new ArrayList<>();
  private final FastPaths fastPaths;

  WebSocketStack(RelayLimits proxyLimits) throws Exception {
    this(proxyLimits, FastPaths.ON);
  }

  /** With the fast paths on (the defaults), or all off on the server and its agents. */
  WebSocketStack(RelayLimits proxyLimits, FastPaths fastPaths) throws Exception {
    server = StandaloneServer.builder().port(0).lease(Duration.ofSeconds(2)).webSockets(proxyLimits)
        .channels(fastPaths.on())
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(20))
            .build())
        .build().start();
    this.fastPaths = fastPaths;
  }

  /** Registers an allUsers backend at {@code /} and starts an agent for it; returns once it polled. */
  ForwardingAgent agent(String id, String target, WebSocketOptions options) throws Exception {
    register(id);
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(server.url()).backendId(id).target(target)
        .credentials(ProxyCredentials.none()).proxyTimeout(Duration.ofSeconds(30)).webSockets(options)
        .shutdownGracePeriod(Duration.ofSeconds(1)).channel(fastPaths.on()).chainRequests(fastPaths.on()).build();
    agent.start();
    agents.add(agent);
    awaitPoll(id);
    return agent;
  }

  void register(String id) {
    if (server.registry().get(id).isEmpty()) {
      server.registry().add(BackendRecord.builder().id(id).endUser("allUsers").backendUser("agent@example.com")
          .pathPrefixes("/").build());
    }
  }

  void awaitPoll(String id) throws InterruptedException {
    Instant started = Instant.now().minusMillis(5);
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (server.registry().lastSeen(id).filter(t -> t.isAfter(started)).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("agent for " + id + " did not poll within 20 s");
      }
      Thread.sleep(10);
    }
  }

  int port() {
    return server.port();
  }

  String ws(String path) {
    return "ws://127.0.0.1:" + port() + path;
  }

  @Override
  public void close() throws Exception {
    for (ForwardingAgent a : agents) {
      a.close();
    }
    server.close();
  }
}
