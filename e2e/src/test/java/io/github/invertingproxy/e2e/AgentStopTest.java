package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.ResponseHead;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * An agent stopped with no grace period (the command line's default) answers the requests it has not
 * begun to answer with 503 before it exits, so their clients do not wait for the proxy's timeout.
 * The proxy's response timeout is far longer than the test: only the agent's answer explains a 503.
 */
@RunWith(Parameterized.class)
public class AgentStopTest {
  @Parameterized.Parameters(name = "channel={0}")
  public static List<Object[]> ways() {
    return List.of(new Object[] {false}, new Object[] {true});
  }

  @Parameterized.Parameter
  public boolean channel;

  private final CountDownLatch release = new CountDownLatch(1);
  private Stack stack;
  private RecordingBackend backend;

  @Before
  public void start() throws Exception {
    backend = new RecordingBackend((r, body, out) -> {
      release.await(); // hangs until the test ends
    });
    stack = new Stack(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(5))
        .responseTimeout(Duration.ofMinutes(30)).build(), channel);
    stack.server.registry().add(BackendRecord.builder().id("b").endUser("allUsers").backendUser("agent@example.com")
        .pathPrefixes("/").build());
  }

  @After
  public void stop() throws Exception {
    release.countDown();
    stack.close();
    backend.close();
  }

  @Test
  public void requestsInFlightGet503WhenTheAgentStops() throws Exception {
    Instant started = Instant.now().minusMillis(5);
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(stack.url()).backendId("b").target(backend.hostAndPort())
        .credentials(ProxyCredentials.none()).proxyTimeout(Duration.ofSeconds(30)).shutdownGracePeriod(Duration.ZERO)
        .build();
    try {
      agent.start();
      Await.until(() -> stack.server.registry().lastSeen("b").filter(t -> t.isAfter(started)).isPresent(),
          "the agent to poll");
      if (channel) {
        Await.until(() -> stack.server.exchanges().channelCount("b") == 1, "the agent's channel to be attached");
      }
      try (RawClient client = new RawClient(stack.port())) {
        client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        CompletableFuture<IncomingMessage<ResponseHead>> response = CompletableFuture.supplyAsync(() -> {
          try {
            return client.response("GET");
          } catch (Exception e) {
            throw new RuntimeException("no answer: " + e, e);
          }
        });
        backend.next(); // the request is with the backend, which does not answer
        agent.close();
        assertEquals(503, response.get(2, TimeUnit.MINUTES).head().status());
      }
    } finally {
      agent.close();
    }
  }
}
