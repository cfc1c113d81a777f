package io.github.invertingproxy.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.rules.ExternalResource;

/**
 * A scripted proxy and a raw backend on real sockets, and the agent a test starts between them; all
 * three are closed after the test.
 */
final class AgentPeers extends ExternalResource {
  ScriptedProxy proxy;
  RawBackend backend;
  private ForwardingAgent agent;

  @Override
  protected void before() throws IOException {
    proxy = ScriptedProxy.start();
    backend = new RawBackend();
  }

  @Override
  protected void after() {
    if (agent != null) {
      agent.close();
    }
    proxy.close();
    try {
      backend.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts an agent for backend "backend-1" from this proxy to this backend, with a short shutdown
   * grace period, after {@code options} have had their say.
   */
  /**
   * Waits until the agent has given {@code count} backend connections back to its pool: a response
   * reaches the proxy a moment before the agent is done with its backend connection.
   */
  void awaitIdleBackendConnections(int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (agent.idleBackendConnections() != count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the agent holds " + agent.idleBackendConnections() + " idle backend connections, not "
            + count);
      }
      Thread.sleep(5);
    }
  }

  ForwardingAgent start(Consumer<ForwardingAgent.Builder> options) {
    ForwardingAgent.Builder builder = ForwardingAgent.builder()
        .proxyUrl(proxy.url())
        .backendId("backend-1")
        .target(backend.hostAndPort())
        .shutdownGracePeriod(Duration.ofMillis(500));
    options.accept(builder);
    agent = builder.build();
    agent.start();
    return agent;
  }
}
