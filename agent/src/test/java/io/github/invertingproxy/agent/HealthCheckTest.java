package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** --health-check-*: the agent against a backend whose health the test switches. */
public class HealthCheckTest {
  private static final Duration INTERVAL = Duration.ofMillis(100);

  private ScriptedProxy proxy;
  private RawBackend backend;
  private ForwardingAgent agent;
  private volatile int healthStatus = 200;
  private final AtomicInteger checks = new AtomicInteger();

  @Before
  public void startPeers() throws IOException {
    proxy = ScriptedProxy.start();
    backend = new RawBackend();
    backend.respondWith((request, out) -> {
      int status = request.head().path().equals("/healthz") ? healthStatus : 200;
      if (request.head().path().equals("/healthz")) {
        checks.incrementAndGet();
      }
      out.write(("HTTP/1.1 " + status + " X\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      return true;
    });
  }

  @After
  public void stopAll() throws IOException {
    if (agent != null) {
      agent.close();
    }
    proxy.close();
    backend.close();
  }

  private void startAgent(int unhealthyThreshold) {
    agent = ForwardingAgent.builder()
        .proxyUrl(proxy.url())
        .backendId("backend-1")
        .target(backend.hostAndPort())
        .credentials(ProxyCredentials.none())
        .healthCheck("/healthz", INTERVAL, unhealthyThreshold)
        .shutdownGracePeriod(Duration.ofMillis(200))
        .build();
    agent.start();
  }

  private void awaitChecks(int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (checks.get() < count) {
      assertTrue("only " + checks.get() + " health checks", System.nanoTime() < deadline);
      Thread.sleep(10);
    }
  }

  @Test
  public void theAgentPollsOnlyOnceTheBackendIsHealthy() throws Exception {
    healthStatus = 503;
    startAgent(2);
    awaitChecks(3);

    assertEquals(0, proxy.pendingPolls());

    healthStatus = 200;
    proxy.awaitPolls(1, Duration.ofSeconds(5));
  }

  @Test
  public void failingTheThresholdOfChecksInARowStopsTheAgentAsFailed() throws Exception {
    startAgent(3);
    proxy.awaitPolls(1, Duration.ofSeconds(5));

    healthStatus = 500;
    CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
      try {
        agent.awaitStopped();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });

    stopped.get(10, TimeUnit.SECONDS);
    assertTrue(agent.failed());
  }

  @Test
  public void failuresBelowTheThresholdLeaveTheAgentRunning() throws Exception {
    startAgent(3);
    proxy.awaitPolls(1, Duration.ofSeconds(5));
    healthStatus = 500;
    int before = checks.get();
    awaitChecks(before + 2);
    healthStatus = 200;
    awaitChecks(before + 4);

    int polls = proxy.pendingPolls();
    proxy.awaitPolls(polls + 1, Duration.ofSeconds(5));
    assertFalse(agent.failed());
  }

  @Test
  public void closingWhileWaitingForAHealthyBackendIsNoFailure() throws Exception {
    healthStatus = 503;
    startAgent(2);
    awaitChecks(2);

    agent.close();

    assertFalse(agent.failed());
    assertEquals(0, proxy.pendingPolls());
  }
}
