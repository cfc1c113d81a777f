package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.WebSocketExtension;
import io.github.invertingproxy.websocket.RelayLimits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * Limits and failures of relayed WebSockets: each side's end reaches the other with the right code,
 * with the fast paths on and with them off.
 */
@RunWith(Parameterized.class)
public class WebSocketFailuresTest {
  private static final RelayLimits LIMITS = RelayLimits.DEFAULT.withMaxMessageSize(1024 * 1024)
      .withIdleTimeout(Duration.ofMillis(1500)).withPingInterval(Duration.ofMillis(300));

  @Parameterized.Parameters(name = "{0}")
  public static List<FastPaths> configurations() {
    return FastPaths.both();
  }

  private final FastPaths fastPaths;
  private WebSocketBackend backend;
  private WebSocketStack stack;

  public WebSocketFailuresTest(FastPaths fastPaths) {
    this.fastPaths = fastPaths;
  }

  @Before
  public void start() throws Exception {
    WsClient.client();
    backend = new WebSocketBackend();
    stack = new WebSocketStack(LIMITS, fastPaths);
  }

  @After
  public void stop() throws Exception {
    stack.close();
    backend.close();
    Processes.killAll();
  }

  private ForwardingAgent agent() throws Exception {
    return stack.agent("ws", backend.hostAndPort(), WebSocketOptions.defaults());
  }

  @Test
  public void aMessageOverTheLimitClosesBothSidesWith1009() throws Exception {
    agent();
    WsClient client = WsClient.connect(stack.ws("/echo"));
    client.sendBinary(new byte[1024 * 1024 + 1]);
    assertEquals(CloseStatus.MESSAGE_TOO_LARGE, client.awaitClose().getCode());
    assertEquals(CloseStatus.MESSAGE_TOO_LARGE, backend.closes.poll(10, TimeUnit.SECONDS).getCode());
  }

  @Test
  public void aMessageOverTheLimitInFragmentsIsCaughtToo() throws Exception {
    agent();
    WsClient client = WsClient.connect(stack.ws("/echo"));
    client.send(OpCode.BINARY, false, new byte[700 * 1024]);
    client.send(OpCode.CONTINUATION, true, new byte[700 * 1024]);
    assertEquals(CloseStatus.MESSAGE_TOO_LARGE, client.awaitClose().getCode());
  }

  @Test
  public void aPeerThatAnswersNoPingIsClosedWith1001AfterTheIdleTimeout() throws Exception {
    agent();
    WsClient client = WsClient.connect(stack.ws("/echo"));
    client.answerPings = false;
    long start = System.nanoTime();
    CloseStatus status = client.awaitClose();
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(CloseStatus.SHUTDOWN, status.getCode());
    assertTrue(status.getReason(), status.getReason().startsWith("idle timeout"));
    assertTrue("closed after " + millis + " ms", millis >= 1000 && millis < 10_000);
    assertEquals(CloseStatus.SHUTDOWN, backend.closes.poll(10, TimeUnit.SECONDS).getCode());
  }

  @Test
  public void aQuietSocketThatAnswersPingsStaysOpenAndTheBackendSeesNoKeepalive() throws Exception {
    agent();
    try (WsClient client = WsClient.connect(stack.ws("/echo"))) {
      Thread.sleep(3000);
      assertFalse(client.closed.isDone());
      client.sendText("still here");
      WsClient.Got got = client.next();
      while (got.opcode() == OpCode.PING) {
        got = client.next();
      }
      assertEquals("still here", got.text());
      assertEquals("still here", backend.frames.take().text());
      assertTrue("the backend got " + backend.frames, backend.frames.isEmpty());
    }
  }

  @Test
  public void theAgentDyingClosesTheClientWith1011() throws Exception {
    stack.register("ws");
    Path log = Files.createTempFile("agent", ".log");
    Process agent = Processes.startAgent("128m", log, stack.server.url(), "ws", backend.hostAndPort());
    stack.awaitPoll("ws");
    WsClient client = WsClient.connect(stack.ws("/echo"));
    client.sendText("before");
    assertEquals("before", nextData(client).text());
    agent.destroyForcibly();
    CloseStatus status = client.awaitClose();
    assertEquals(CloseStatus.SERVER_ERROR, status.getCode());
    assertEquals("agent connection lost", status.getReason());
  }

  @Test
  public void theBackendDyingClosesTheClientWith1011() throws Exception {
    agent();
    WsClient client = WsClient.connect(stack.ws("/echo"));
    client.sendText("before");
    assertEquals("before", nextData(client).text());
    backend.abortAll();
    CloseStatus status = client.awaitClose();
    assertEquals(CloseStatus.SERVER_ERROR, status.getCode());
    assertEquals("backend connection lost", status.getReason());
  }

  @Test
  public void theClientVanishingClosesTheBackendWith1001() throws Exception {
    agent();
    WsClient client = WsClient.connect(stack.ws("/echo"));
    client.sendText("before");
    assertEquals("before", nextData(client).text());
    client.session().abort();
    CloseStatus status = backend.closes.poll(10, TimeUnit.SECONDS);
    assertEquals(CloseStatus.SHUTDOWN, status.getCode());
    assertEquals("client went away", status.getReason());
  }

  @Test
  public void anAgentThatDoesNotAnnounceWebSocketsLeavesUpgradesWith501AndServesHttp() throws Exception {
    stack.agent("ws", backend.hostAndPort(), null);
    try (RawClient raw = new RawClient(stack.port())) {
      var response = raw.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").response("GET");
      assertEquals(501, response.head().status());
      String body = new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(body, body.contains("does not carry WebSocket upgrades"));
    }
    try (RawClient raw = new RawClient(stack.port())) {
      var response = raw.send("GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").response("GET");
      assertEquals(200, response.head().status());
    }
  }

  @Test
  public void aFastSenderIsHeldBackByASlowReaderWithoutBufferingInTheProxyOrAgent() throws Exception {
    stack.close();
    stack = new WebSocketStack(RelayLimits.DEFAULT, fastPaths);
    ForwardingAgent agent = agent();
    int frames = 200;
    byte[] mebibyte = new byte[1024 * 1024];
    WsClient client = WsClient.connect(stack.ws("/paused"));
    AtomicInteger sent = new AtomicInteger();
    Thread sender = new Thread(() -> {
      try {
        for (int i = 0; i < frames; i++) {
          client.sendBinary(mebibyte);
          sent.incrementAndGet();
        }
      } catch (Exception e) {
        // reported by the counts below
      }
    });
    sender.start();
    Thread.sleep(3000);
    int sentWhilePaused = sent.get();
    long proxyHeld = stack.server.webSockets().relays().maxBytesHeld();
    long agentHeld = agent.webSockets().relays().maxBytesHeld();
    System.out.println("backpressure: " + sentWhilePaused + " MiB written by the client while the backend read"
        + " nothing; most held by proxy " + proxyHeld + " B, by agent " + agentHeld + " B");
    assertTrue(sentWhilePaused + " of " + frames + " MiB went out while the backend read nothing",
        sentWhilePaused < frames / 2);
    assertTrue("proxy held " + proxyHeld, proxyHeld <= mebibyte.length);
    assertTrue("agent held " + agentHeld, agentHeld <= mebibyte.length);
    backend.resume();
    sender.join(60_000);
    assertEquals(frames, sent.get());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (backend.pausedBytes.get() < (long) frames * mebibyte.length && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals((long) frames * mebibyte.length, backend.pausedBytes.get());
    client.close();
  }

  @Test
  public void anAgentSocketThatComesBeforeItsUpgradeIsExpectedIsAcceptedOnceItIs() throws Exception {
    // A request is visible to agents as soon as it is submitted, a moment before its upgrade is
    // registered; an agent that dials in between must not be turned away.
    stack.register("early");
    Map<String, String> headers = Map.of(ProtocolHeaders.BACKEND_ID, "early", ProtocolHeaders.REQUEST_ID, "r-early");
    CompletableFuture<WsClient> agentSide = CompletableFuture.supplyAsync(() -> {
      try {
        return WsClient.connect(stack.ws("/" + WebSocketExtension.AGENT_PATH), List.of(), headers);
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
    Thread.sleep(300);
    assertFalse("the agent's socket waits for its upgrade to be expected", agentSide.isDone());

    stack.server.webSockets().expect("early", "r-early");

    WsClient agentSocket = agentSide.get(10, TimeUnit.SECONDS);
    assertEquals(1, stack.server.webSockets().pendingCount());
    agentSocket.close();
    stack.server.webSockets().forget("r-early");
  }

  @Test
  public void anAgentSocketForAnUpgradeThatIsNeverExpectedIsRefusedWith404AfterItsWait() throws Exception {
    stack.register("never");
    long started = System.nanoTime();
    try (RawClient agentSide = new RawClient(stack.port())) {
      agentSide.send("GET /" + WebSocketExtension.AGENT_PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + ProtocolHeaders.BACKEND_ID + ": never\r\n"
          + ProtocolHeaders.REQUEST_ID + ": r-never\r\n\r\n");
      var answer = agentSide.response("GET");
      assertEquals(404, answer.head().status());
      assertTrue(new String(answer.body().readAllBytes(), StandardCharsets.UTF_8).contains("r-never"));
    }
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertTrue("refused after " + waitedMillis + " ms, before the upgrade could have been expected",
        waitedMillis >= 1_900);
    assertEquals(0, stack.server.webSockets().pendingCount());
  }

  @Test
  public void noSocketConnectionOrThreadIsLeftBehind() throws Exception {
    stack.close();
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    stack = new WebSocketStack(LIMITS, fastPaths);
    ForwardingAgent agent = agent();
    for (int i = 0; i < 10; i++) {
      try (WsClient client = WsClient.connect(stack.ws("/echo"))) {
        client.sendText("x" + i);
        assertEquals("x" + i, nextData(client).text());
      }
    }
    WsClient abandoned = WsClient.connect(stack.ws("/echo"));
    abandoned.session().abort();
    assertTrue(stack.server.webSockets().relays().awaitNoneOpen(10_000));
    assertTrue(agent.webSockets().relays().awaitNoneOpen(10_000));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    // The upgrade's servlet call ends just after its relay does, and the backend learns of the close
    // a moment later; give them that moment. The agent's channel (one WebSocket) stays open.
    int channels = stack.server.webSockets().channelCount();
    while ((stack.server.webSockets().pendingCount() > 0 || stack.server.openWebSocketConnections() > channels
        || backend.openSockets() > 0) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, stack.server.webSockets().pendingCount());
    assertEquals(channels, stack.server.openWebSocketConnections());
    assertTrue(backend.openSockets() == 0);
    stack.close();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Set<String> left;
    do {
      Thread.sleep(50);
      left = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.isAlive() && !before.contains(t) && !t.getName().startsWith("test-websocket-client")
              && !t.getName().startsWith("qtp") && !t.getName().startsWith("Scheduler"))
          .map(Thread::getName).collect(Collectors.toSet());
    } while (!left.isEmpty() && System.nanoTime() < deadline);
    System.out.println("threads before " + before.size() + ", after closing " + Thread.getAllStackTraces().size());
    assertTrue("threads left behind: " + left, left.isEmpty());
    stack = new WebSocketStack(LIMITS, fastPaths);
  }

  private static WsClient.Got nextData(WsClient client) throws InterruptedException {
    WsClient.Got got = client.next();
    while (got.opcode() == OpCode.PING || got.opcode() == OpCode.PONG) {
      got = client.next();
    }
    return got;
  }
}
