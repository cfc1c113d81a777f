package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.channel.ProxyChannel;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The channel extension, against a scripted proxy and against a proxy that opens real channels. */
public class ChannelTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @Rule public final AgentPeers peers = new AgentPeers();
  @Rule public final TemporaryFolder folder = new TemporaryFolder();

  private ChannelProxy channelProxy;
  private ForwardingAgent agent;
  private LogCapture log;

  @Before
  public void startLogCapture() {
    log = LogCapture.start();
  }

  @After
  public void stopEverything() throws Exception {
    if (agent != null) {
      agent.close();
    }
    if (channelProxy != null) {
      channelProxy.close();
    }
    log.close();
  }

  /** Starts an agent against the channel proxy, to the raw backend. */
  private void startAgainstChannelProxy(Consumer<ForwardingAgent.Builder> options) throws Exception {
    channelProxy = new ChannelProxy();
    ForwardingAgent.Builder builder = ForwardingAgent.builder()
        .proxyUrl(channelProxy.url())
        .backendId("backend-1")
        .target(peers.backend.hostAndPort())
        .shutdownGracePeriod(Duration.ofMillis(500));
    options.accept(builder);
    agent = builder.build();
    agent.start();
  }

  private static ChannelFrame.Request request(String id, String wire) {
    return new ChannelFrame.Request(id, "alice@example.com", RequestStartTime.format(Instant.now()),
        wire.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static List<ScriptedProxy.Call> polls(ScriptedProxy proxy) {
    return proxy.calls().stream().filter(c -> c.path().endsWith("/agent/pending")).toList();
  }

  private static long channelDials(ScriptedProxy proxy) {
    return proxy.calls().stream().filter(c -> c.path().endsWith("/" + ChannelFrame.PATH)).count();
  }

  @Test
  public void aRequestWithTheBackendSelectorWhenTheAgentStopsIsStillAnswered() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    peers.backend.respondWith((request, out) -> {
      arrived.countDown();
      Thread.sleep(300);
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate".getBytes(StandardCharsets.ISO_8859_1));
      return true;
    });
    startAgainstChannelProxy(b -> b.shutdownGracePeriod(Duration.ofSeconds(5)));
    channelProxy.awaitOpen(WAIT);
    channelProxy.send(request("s1", "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"));
    assertTrue(arrived.await(5, TimeUnit.SECONDS));

    agent.close();

    // The channel closed first, so the response went with agent/response, within the grace period.
    assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate",
        ChannelProxy.text(channelProxy.awaitPosted("s1", WAIT)));
  }

  @Test
  public void theAgentAnnouncesTheChannelOnEveryPollAlongsideWebSockets() throws Exception {
    peers.start(b -> {});
    peers.proxy.awaitPolls(3, WAIT);

    for (ScriptedProxy.Call poll : polls(peers.proxy)) {
      assertTrue(poll.features(), AgentFeatures.lists(poll.features(), AgentFeatures.CHANNEL));
      assertTrue(poll.features(), AgentFeatures.lists(poll.features(), AgentFeatures.WEBSOCKET));
    }
  }

  @Test
  public void withTheChannelOffTheAgentAnnouncesOnlyWhatItDidBefore() throws Exception {
    peers.start(b -> b.channel(false));
    peers.proxy.awaitPolls(2, WAIT);

    for (ScriptedProxy.Call poll : polls(peers.proxy)) {
      assertEquals(AgentFeatures.WEBSOCKET, poll.features());
    }
  }

  @Test
  public void withTheChannelAndWebSocketsOffThePollsCarryNoFeatures() throws Exception {
    peers.start(b -> b.channel(false).webSockets(null));
    peers.proxy.awaitPolls(2, WAIT);

    for (ScriptedProxy.Call poll : polls(peers.proxy)) {
      assertNull(poll.features());
    }
  }

  @Test
  public void anAgentWhoseProxyNeverOffersTheChannelNeverDialsIt() throws Exception {
    peers.start(b -> {});
    peers.proxy.enqueue("r1", ForwardingAgentTest.bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    peers.proxy.awaitResponse("r1", WAIT);
    peers.proxy.awaitPolls(polls(peers.proxy).size() + 3, WAIT);

    assertEquals(0, channelDials(peers.proxy));
    assertTrue(log.allMessages().stream().noneMatch(m -> m.contains("channel")));
  }

  @Test
  public void withTheChannelOffAnOfferIsIgnored() throws Exception {
    peers.proxy.offerOnPolls(AgentFeatures.CHANNEL);
    peers.start(b -> b.channel(false));
    peers.proxy.awaitPolls(4, WAIT);

    assertEquals(0, channelDials(peers.proxy));
  }

  @Test
  public void aProxyThatOffersTheChannelButRefusesItGetsOneWarningAndRequestsThroughPolls() throws Exception {
    peers.proxy.offerOnPolls(AgentFeatures.CHANNEL);
    peers.start(b -> {});
    List<String> warnings = log.awaitMessagesContaining("channel to the proxy could not be opened", 1, WAIT);
    peers.proxy.enqueue("r1", ForwardingAgentTest.bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = peers.proxy.awaitResponse("r1", WAIT);
    peers.proxy.awaitPolls(polls(peers.proxy).size() + 3, WAIT);

    assertEquals(200, posted.head.status());
    assertTrue(warnings.get(0), warnings.get(0).contains("404"));
    assertTrue(warnings.get(0), warnings.get(0).endsWith("; requests keep coming through polls"));
    // Within the first backoff (5 s) the offer on every poll is not taken up again.
    assertEquals(1, channelDials(peers.proxy));
    assertEquals(1, log.messagesContaining("channel to the proxy could not be opened").size());
  }

  @Test
  public void theChannelIsOpenedWithTheHeadersOfTheOtherAgentCalls() throws Exception {
    Path token = folder.newFile("token").toPath();
    Files.writeString(token, "secret-1\n");
    startAgainstChannelProxy(b -> b.credentials(ProxyCredentials.tokenFile(token)));

    HttpFields handshake = channelProxy.awaitHandshake(WAIT);
    channelProxy.awaitOpen(WAIT);

    assertEquals("backend-1", handshake.get(ProtocolHeaders.BACKEND_ID));
    assertEquals("Bearer secret-1", handshake.get("Authorization"));
    assertEquals("inverting-proxy-agent-java", handshake.get("User-Agent"));
    assertEquals(channelProxy.url().substring("http://".length(), channelProxy.url().indexOf("/base/")),
        handshake.get("Host"));
    log.awaitMessagesContaining("channel to the proxy opened", 1, WAIT);
    assertTrue(agent.channelOpen());
  }

  @Test
  public void aRequestOverTheChannelIsForwardedLikeAFetchedOneAndAnsweredInOneFrame() throws Exception {
    startAgainstChannelProxy(b -> b.forwardUserId(true));
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(request("c1", "POST /submit HTTP/1.1\r\nHost: public.example.com\r\n"
        + "Connection: keep-alive\r\nContent-Length: 5\r\n\r\nhello"));

    RawBackend.Received received = peers.backend.awaitRequest(WAIT);
    assertEquals("POST /submit HTTP/1.1\r\nHost: public.example.com\r\nContent-Length: 5\r\n"
        + "X-Inverting-Proxy-User-ID: alice@example.com\r\n\r\nhello", received.rawText());
    ChannelFrame answer = channelProxy.awaitFrame(WAIT);
    assertTrue(answer instanceof ChannelFrame.Response);
    assertEquals("c1", answer.id());
    assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ChannelProxy.text(answer.message()));
    assertFalse(channelProxy.wasPosted("c1"));
    List<String> lines = log.awaitMessagesContaining("request c1: POST /submit -> 200, 2 bytes", 1, WAIT);
    assertEquals(1, lines.size());
  }

  @Test
  public void withTheBackendSelectorOffAChannelRequestTakesAPooledConnectionAndIsStillAnsweredInAFrame()
      throws Exception {
    startAgainstChannelProxy(b -> b.backendSelector(false));
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(request("s1", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"));

    assertEquals("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ChannelProxy.text(channelProxy.awaitFrame(WAIT).message()));
    // The selector keeps connections of its own; only a request thread gives one back to the pool.
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (agent.idleBackendConnections() != 1) {
      assertTrue("no pooled backend connection came back", System.nanoTime() < deadline);
      Thread.sleep(10);
    }
    assertFalse(channelProxy.wasPosted("s1"));
  }

  @Test
  public void aRequestMessageInFragmentsIsReassembled() throws Exception {
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);
    java.nio.ByteBuffer encoded = ChannelFrame.encode(request("c1", "GET /fragmented HTTP/1.1\r\nHost: h\r\n\r\n"));
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);

    channelProxy.send(bytes, 4);

    assertEquals("/fragmented", peers.backend.awaitRequest(WAIT).head().path());
    assertEquals("c1", channelProxy.awaitFrame(WAIT).id());
  }

  @Test
  public void aResponseLargerThanAFrameTakesAgentResponse() throws Exception {
    String body = "x".repeat(ChannelFrame.MAX_BODY_BYTES + 1);
    peers.backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(request("c1", "GET /large HTTP/1.1\r\nHost: h\r\n\r\n"));

    byte[] posted = channelProxy.awaitPosted("c1", WAIT);
    assertTrue(ChannelProxy.text(posted).endsWith("\r\n\r\n" + body));
    assertNull(channelProxy.pollFrame(Duration.ofMillis(200)));
  }

  @Test
  public void aChunkedResponseTakesAgentResponseWhateverItsSize() throws Exception {
    peers.backend.respondWith("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(request("c1", "GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n"));

    assertTrue(ChannelProxy.text(channelProxy.awaitPosted("c1", WAIT)).contains("2\r\nok\r\n0\r\n"));
    assertNull(channelProxy.pollFrame(Duration.ofMillis(200)));
  }

  @Test
  public void aResponseOfExactlyTheLargestFrameBodyGoesInAFrame() throws Exception {
    String body = "y".repeat(ChannelFrame.MAX_BODY_BYTES);
    peers.backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(request("c1", "GET /just-fits HTTP/1.1\r\nHost: h\r\n\r\n"));

    ChannelFrame answer = channelProxy.awaitFrame(WAIT);
    assertTrue(ChannelProxy.text(answer.message()).endsWith("\r\n\r\n" + body));
  }

  @Test
  public void anUnreachableBackendIsAnswered502InAFrame() throws Exception {
    peers.backend.close();
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(request("c1", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    assertTrue(ChannelProxy.text(channelProxy.awaitFrame(WAIT).message()).startsWith("HTTP/1.1 502 Bad Gateway\r\n"));
  }

  @Test
  public void anUnreadableFrameClosesTheChannelWith1002AndAWarning() throws Exception {
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(new byte[] {9, 9, 9}, 1);

    assertEquals(CloseStatus.PROTOCOL, channelProxy.awaitClose(WAIT).getCode());
    List<String> warnings = log.awaitMessagesContaining("channel to the proxy closed (1002", 1, WAIT);
    assertTrue(warnings.get(0), warnings.get(0).contains("unknown channel frame type 9"));
  }

  @Test
  public void aResponseFrameFromTheProxyClosesTheChannelWith1002() throws Exception {
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(new ChannelFrame.Response("c1", new byte[0]));

    assertEquals(CloseStatus.PROTOCOL, channelProxy.awaitClose(WAIT).getCode());
  }

  @Test
  public void aMessageOverTheLimitClosesTheChannelWith1009() throws Exception {
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.send(new byte[ChannelFrame.MAX_FRAME_BYTES + 10], 2);

    assertEquals(CloseStatus.MESSAGE_TOO_LARGE, channelProxy.awaitClose(WAIT).getCode());
  }

  @Test
  public void aChannelTheProxyClosesIsLoggedAndOpenedAgainAfterTheBackoff() throws Exception {
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    channelProxy.closeChannel(CloseStatus.NORMAL, "restarting");

    List<String> lines = log.awaitMessagesContaining("channel to the proxy closed by the proxy", 1, WAIT);
    assertTrue(lines.get(0), lines.get(0).contains("1000 \"restarting\""));
    channelProxy.awaitOpen(ProxyChannel.FIRST_RETRY.multipliedBy(2).plus(WAIT));
    channelProxy.send(request("c2", "GET /again HTTP/1.1\r\nHost: h\r\n\r\n"));
    assertEquals("c2", channelProxy.awaitFrame(WAIT).id());
  }

  @Test
  public void closingTheAgentClosesTheChannelWith1001() throws Exception {
    startAgainstChannelProxy(b -> {});
    channelProxy.awaitOpen(WAIT);

    agent.close();

    CloseStatus status = channelProxy.awaitClose(WAIT);
    assertEquals(CloseStatus.SHUTDOWN, status.getCode());
    assertTrue(log.messagesContaining("channel to the proxy closed").isEmpty());
  }

  @Test
  public void aRequestInFlightWhenTheAgentClosesIsAnsweredWithAgentResponse() throws Exception {
    peers.backend.respondWith((request, out) -> {
      Thread.sleep(300);
      return RawBackend.OK.respond(request, out);
    });
    startAgainstChannelProxy(b -> b.shutdownGracePeriod(Duration.ofSeconds(3)));
    channelProxy.awaitOpen(WAIT);
    channelProxy.send(request("c1", "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"));
    peers.backend.awaitRequest(WAIT);

    agent.close();

    assertTrue(ChannelProxy.text(channelProxy.awaitPosted("c1", WAIT)).endsWith("\r\n\r\nok"));
  }
}
