package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import io.github.invertingproxy.server.StandaloneServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The proxy's side of the channel extension (docs/protocol.md): a scripted agent on a real
 * {@code agent/channel} WebSocket, real clients, the real stand-alone server.
 */
public class ChannelExtensionTest {
  private StandaloneServer server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0).lease(Duration.ofSeconds(30))
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofMillis(300)).responseTimeout(Duration.ofSeconds(20)).build())
        .build().start();
    for (String id : List.of("a", "b")) {
      server.registry().add(BackendRecord.builder().id(id).endUser("allUsers").backendUser("agent@example.com")
          .pathPrefixes("/" + id + "/").build());
      poll(id, "");
    }
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  /** One {@code agent/pending} call announcing {@code features}. */
  private HttpResponse<String> poll(String backend, String features) throws Exception {
    HttpRequest.Builder call = HttpRequest.newBuilder(URI.create(server.url() + "agent/pending"))
        .header(ProtocolHeaders.BACKEND_ID, backend).timeout(Duration.ofSeconds(10));
    if (!features.isEmpty()) {
      call.header(AgentFeatures.HEADER, features);
    }
    return http.send(call.build(), HttpResponse.BodyHandlers.ofString());
  }

  private WsClient openChannel(String backend) throws Exception {
    WsClient channel = WsClient.connect(server.url().replace("http://", "ws://") + ChannelFrame.PATH, List.of(),
        Map.of(ProtocolHeaders.BACKEND_ID, backend));
    Await.until(() -> server.exchanges().channelCount(backend) == 1, "the channel to be attached");
    return channel;
  }

  private CompletableFuture<HttpResponse<String>> client(HttpRequest.Builder request) {
    return http.sendAsync(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder to(String path) {
    return HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)));
  }

  /** The one request just sent is listed to a poll of {@code backend}, and nothing came over {@code channel}. */
  private void assertListedToAPollOnly(String backend, WsClient channel) throws Exception {
    String listed = poll(backend, "").body();
    assertTrue(listed, listed.matches("\\[\"[0-9a-f]{64}\"\\]"));
    assertNull(channel.frames.poll(300, TimeUnit.MILLISECONDS));
  }

  private static ChannelFrame.Request nextRequest(WsClient channel) throws Exception {
    WsClient.Got got = channel.next();
    assertEquals(OpCode.BINARY, got.opcode());
    return (ChannelFrame.Request) ChannelFrame.decode(ByteBuffer.wrap(got.payload()));
  }

  private static void respond(WsClient channel, String id, String wire) throws Exception {
    ByteBuffer frame = ChannelFrame.encode(new ChannelFrame.Response(id, wire.getBytes(ISO_8859_1)));
    byte[] bytes = new byte[frame.remaining()];
    frame.get(bytes);
    channel.sendBinary(bytes);
  }

  @Test
  public void aPollThatAnnouncesTheChannelIsOfferedIt() throws Exception {
    assertEquals(AgentFeatures.CHANNEL, poll("a", "websocket, channel").headers().firstValue(AgentFeatures.HEADER).orElse(null));
    assertNull(poll("a", "websocket").headers().firstValue(AgentFeatures.HEADER).orElse(null));
    assertNull(poll("a", "").headers().firstValue(AgentFeatures.HEADER).orElse(null));
  }

  @Test
  public void aServerWithChannelsOffOffersNoneAndRefusesTheUpgrade() throws Exception {
    server.close();
    server = StandaloneServer.builder().port(0).channels(false)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofMillis(300)).build()).build().start();
    server.registry().add(BackendRecord.builder().id("a").endUser("allUsers").backendUser("agent@example.com")
        .pathPrefixes("/a/").build());
    assertNull(poll("a", "channel").headers().firstValue(AgentFeatures.HEADER).orElse(null));
    assertThrows(Exception.class, () -> WsClient.connect(server.url().replace("http://", "ws://") + ChannelFrame.PATH,
        List.of(), Map.of(ProtocolHeaders.BACKEND_ID, "a")));
  }

  @Test
  public void aChannelWithoutABackendIdIsRefused() {
    assertThrows(Exception.class, () -> WsClient.connect(server.url().replace("http://", "ws://") + ChannelFrame.PATH));
    assertEquals(0, server.exchanges().channelCount("a"));
  }

  @Test
  public void aSmallRequestTravelsOverTheChannelAndItsResponseFrameReachesTheClient() throws Exception {
    try (WsClient channel = openChannel("a")) {
      CompletableFuture<HttpResponse<String>> answer = client(to("/a/hello?x=1").POST(HttpRequest.BodyPublishers.ofString("ping")));
      ChannelFrame.Request request = nextRequest(channel);
      String wire = new String(request.message(), ISO_8859_1);
      assertTrue(wire, wire.startsWith("POST /a/hello?x=1 HTTP/1.1\r\n"));
      assertTrue(wire, wire.contains("\r\nContent-Length: 4\r\n"));
      assertTrue(wire, wire.endsWith("\r\n\r\nping"));
      assertEquals("", request.user());
      RequestStartTime.parse(request.startTime());
      assertTrue(request.id(), request.id().matches("[0-9a-f]{64}"));

      respond(channel, request.id(), "HTTP/1.1 201 Created\r\nX-From: backend\r\nContent-Length: 4\r\n\r\npong");
      HttpResponse<String> response = answer.get(10, TimeUnit.SECONDS);
      assertEquals(201, response.statusCode());
      assertEquals("backend", response.headers().firstValue("X-From").orElse(null));
      assertEquals("pong", response.body());
    }
  }

  @Test
  public void aRequestWithALargeBodyWaitsForAPollInstead() throws Exception {
    try (WsClient channel = openChannel("a")) {
      client(to("/a/upload").POST(HttpRequest.BodyPublishers.ofString("x".repeat(ChannelFrame.MAX_BODY_BYTES + 1))));
      assertListedToAPollOnly("a", channel);
    }
  }

  @Test
  public void aRequestFromTheChannelMayBeAnsweredWithAgentResponse() throws Exception {
    try (WsClient channel = openChannel("a")) {
      CompletableFuture<HttpResponse<String>> answer = client(to("/a/big"));
      ChannelFrame.Request request = nextRequest(channel);
      HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(server.url() + "agent/response"))
          .header(ProtocolHeaders.BACKEND_ID, "a").header(ProtocolHeaders.REQUEST_ID, request.id())
          .POST(HttpRequest.BodyPublishers.ofString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbig\r\n0\r\n\r\n"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, posted.statusCode());
      assertEquals("big", answer.get(10, TimeUnit.SECONDS).body());
    }
  }

  @Test
  public void anotherBackendsRequestsNeverReachTheChannel() throws Exception {
    try (WsClient channel = openChannel("a")) {
      client(to("/b/secret"));
      assertListedToAPollOnly("b", channel);
    }
  }

  @Test
  public void aResponseFrameForAnUnknownRequestChangesNothing() throws Exception {
    try (WsClient channel = openChannel("a")) {
      respond(channel, "0".repeat(64), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      CompletableFuture<HttpResponse<String>> answer = client(to("/a/after"));
      ChannelFrame.Request request = nextRequest(channel);
      respond(channel, request.id(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      assertEquals("ok", answer.get(10, TimeUnit.SECONDS).body());
    }
  }

  @Test
  public void aMalformedFrameClosesTheChannelWithAProtocolError() throws Exception {
    try (WsClient channel = openChannel("a")) {
      channel.sendBinary(new byte[] {9, 1, 'x'});
      assertEquals(CloseStatus.PROTOCOL, channel.awaitClose().getCode());
      Await.until(() -> server.exchanges().channelCount("a") == 0, "the channel to be detached");
    }
  }

  @Test
  public void aMessageFragmentedPastTheLimitClosesTheChannelAsTooLarge() throws Exception {
    try (WsClient channel = openChannel("a")) {
      channel.send(OpCode.BINARY, false, new byte[ChannelFrame.MAX_FRAME_BYTES / 2]);
      channel.send(OpCode.CONTINUATION, false, new byte[ChannelFrame.MAX_FRAME_BYTES / 2]);
      channel.send(OpCode.CONTINUATION, false, new byte[16]);
      assertEquals(CloseStatus.MESSAGE_TOO_LARGE, channel.awaitClose().getCode());
      Await.until(() -> server.exchanges().channelCount("a") == 0, "the channel to be detached");
    }
  }

  @Test
  public void afterTheChannelClosesRequestsWaitForPollsAgain() throws Exception {
    WsClient channel = openChannel("a");
    channel.close();
    Await.until(() -> server.exchanges().channelCount("a") == 0, "the channel to be detached");
    client(to("/a/later"));
    String listed = poll("a", "channel").body();
    assertTrue(listed, listed.matches("\\[\"[0-9a-f]{64}\"\\]"));
  }

  @Test
  public void aChannelWhoseAgentMayNoLongerServeTheBackendIsClosedBeforeItGetsARequest() throws Exception {
    server.close();
    java.nio.file.Path tokens = java.nio.file.Files.createTempFile("tokens", "");
    java.nio.file.Files.writeString(tokens, "agent-token-0123456789 agent agent@example.com\n"
        + "alice-token-0123456789 user alice@example.com\n");
    try {
      server = StandaloneServer.builder().port(0).tokensFile(tokens)
          .settings(ProxySettings.builder().pendingTimeout(Duration.ofMillis(300)).build()).build().start();
      BackendRecord record = BackendRecord.builder().id("a").endUser("alice@example.com")
          .backendUser("agent@example.com").pathPrefixes("/a/").build();
      server.registry().add(record);
      Map<String, String> agent = Map.of(ProtocolHeaders.BACKEND_ID, "a", "Authorization", "Bearer agent-token-0123456789");
      http.send(HttpRequest.newBuilder(URI.create(server.url() + "agent/pending")).header(ProtocolHeaders.BACKEND_ID, "a")
          .header("Authorization", "Bearer agent-token-0123456789").build(), HttpResponse.BodyHandlers.ofString());
      try (WsClient channel = WsClient.connect(server.url().replace("http://", "ws://") + ChannelFrame.PATH, List.of(),
          agent)) {
        Await.until(() -> server.exchanges().channelCount("a") == 1, "the channel to be attached");
        client(to("/a/first").header("Authorization", "Bearer alice-token-0123456789"));
        respond(channel, nextRequest(channel).id(), "HTTP/1.1 204 No Content\r\n\r\n");

        // The record now names another agent account: this channel must not see the next request.
        server.registry().update(BackendRecord.builder().id("a").endUser("alice@example.com")
            .backendUser("other@example.com").pathPrefixes("/a/").build());
        client(to("/a/second").header("Authorization", "Bearer alice-token-0123456789"));
        assertEquals(CloseStatus.POLICY_VIOLATION, channel.awaitClose().getCode());
        assertTrue(channel.frames.stream().noneMatch(f -> new String(f.payload(), ISO_8859_1).contains("/a/second")));
        assertEquals(0, server.exchanges().channelCount("a"));
      }
    } finally {
      java.nio.file.Files.deleteIfExists(tokens);
    }
  }

  @Test
  public void twoChannelsOfOneBackendTakeRequestsInTurn() throws Exception {
    try (WsClient first = openChannel("a");
        WsClient second = WsClient.connect(server.url().replace("http://", "ws://") + ChannelFrame.PATH, List.of(),
            Map.of(ProtocolHeaders.BACKEND_ID, "a"))) {
      Await.until(() -> server.exchanges().channelCount("a") == 2, "both channels to be attached");
      CompletableFuture<HttpResponse<String>> one = client(to("/a/1"));
      ChannelFrame.Request r1 = nextRequest(second);
      CompletableFuture<HttpResponse<String>> two = client(to("/a/2"));
      ChannelFrame.Request r2 = nextRequest(first);
      respond(first, r2.id(), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2");
      respond(second, r1.id(), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1");
      assertEquals("1", one.get(10, TimeUnit.SECONDS).body());
      assertEquals("2", two.get(10, TimeUnit.SECONDS).body());
      assertFalse(new String(r1.message(), ISO_8859_1).contains("/a/2"));
    }
  }
}
