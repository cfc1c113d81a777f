package io.github.invertingproxy.agent;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.Headers;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

/** The agent against a scripted proxy and a raw backend, both on real sockets. */
public class ForwardingAgentTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @Rule public final AgentPeers peers = new AgentPeers();

  private ScriptedProxy proxy;
  private RawBackend backend;
  private ForwardingAgent agent;
  private LogCapture log;

  @Before
  public void startPeers() {
    proxy = peers.proxy;
    backend = peers.backend;
    log = LogCapture.start();
  }

  @After
  public void stopLogCapture() {
    log.close();
  }

  private void startAgent() {
    startAgent(b -> {});
  }

  private void startAgent(Consumer<ForwardingAgent.Builder> options) {
    agent = peers.start(options);
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  public void aRequestWithContentLengthReachesTheBackendByteForByte() throws Exception {
    byte[] body = {'a', 0, '\r', '\n', (byte) 0xff, (byte) 0xc3, (byte) 0xa9, 'z', '\n', '0'};
    byte[] request = concat(bytes("POST /a%2Fb/c%20d;p?q=%C3%A9&q=2&empty= HTTP/1.1\r\n"
        + "Host: public.example.com:8443\r\n"
        + "X-Repeated: one\r\n"
        + "Cookie: a=1\r\n"
        + "X-Repeated: two\r\n"
        + "x-lower-case: Value With  Spaces\r\n"
        + "Content-Type: application/octet-stream\r\n"
        + "Content-Length: 10\r\n"
        + "\r\n"), body);
    backend.respondWith(RawBackend.OK);
    startAgent();
    proxy.enqueue("r1", request);

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals(new String(request, StandardCharsets.ISO_8859_1), received.rawText());
    assertArrayEquals(request, received.raw());
  }

  @Test
  public void aChunkedRequestBodyReachesTheBackendWithItsTrailers() throws Exception {
    String head = "PUT /upload HTTP/1.1\r\n"
        + "Host: public.example.com\r\n"
        + "Transfer-Encoding: chunked\r\n"
        + "Trailer: X-Checksum\r\n"
        + "\r\n";
    byte[] request = bytes(head + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n");
    startAgent();
    proxy.enqueue("r1", request);

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertTrue(received.rawText(), received.rawText().startsWith(head));
    assertEquals("hello world", received.bodyText());
    assertEquals(Headers.of("X-Checksum", "abc123"), received.trailers());
  }

  @Test
  public void theClientsConnectionHeadersAreNotReplayed() throws Exception {
    byte[] request = bytes("GET / HTTP/1.1\r\n"
        + "Host: h\r\n"
        + "Connection: keep-alive, X-Hop\r\n"
        + "Keep-Alive: timeout=5\r\n"
        + "X-Hop: only for the first hop\r\n"
        + "X-End: kept\r\n"
        + "\r\n");
    startAgent();
    proxy.enqueue("r1", request);

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals("GET / HTTP/1.1\r\nHost: h\r\nX-End: kept\r\n\r\n", received.rawText());
  }

  @Test
  public void aRequestWithoutHostGetsTheBackendsAuthority() throws Exception {
    startAgent();
    proxy.enqueue("r1", bytes("GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n"));

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals("GET /x HTTP/1.1\r\nHost: " + backend.hostAndPort() + "\r\nAccept: */*\r\n\r\n", received.rawText());
  }

  @Test
  public void forwardUserIdReplacesAnyUserIdHeaderWithTheProxysValue() throws Exception {
    startAgent(b -> b.forwardUserId(true));
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Inverting-Proxy-User-ID: forged@example.com\r\n\r\n"));

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals(java.util.List.of("alice@example.com"),
        received.head().headers().all("X-Inverting-Proxy-User-ID"));
  }

  @Test
  public void theUserIdIsNotForwardedByDefault() throws Exception {
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertFalse(received.head().headers().contains("X-Inverting-Proxy-User-ID"));
  }

  @Test
  public void stripCredentialsRemovesTheAuthorizationHeader() throws Exception {
    startAgent(b -> b.stripCredentials(true));
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dTpw\r\nCookie: c=1\r\n\r\n"));

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals("GET / HTTP/1.1\r\nHost: h\r\nCookie: c=1\r\n\r\n", received.rawText());
  }

  @Test
  public void responseHeadersReachTheProxyInOrderWithRepeatedSetCookies() throws Exception {
    backend.respondWith("HTTP/1.1 201 Created\r\n"
        + "Set-Cookie: a=1; Path=/\r\n"
        + "X-Middle: m\r\n"
        + "Set-Cookie: b=2\r\n"
        + "Set-Cookie: c=3; HttpOnly\r\n"
        + "Connection: keep-alive\r\n"
        + "Keep-Alive: timeout=5\r\n"
        + "Content-Length: 5\r\n"
        + "\r\n"
        + "hello");
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertNull(posted.error);
    assertEquals(201, posted.head.status());
    assertEquals("Created", posted.head.reason());
    assertEquals(Headers.of(
        "Set-Cookie", "a=1; Path=/",
        "X-Middle", "m",
        "Set-Cookie", "b=2",
        "Set-Cookie", "c=3; HttpOnly",
        "Content-Length", "5"), posted.head.headers());
    assertEquals("hello", posted.bodyText());
    assertEquals("text/plain", posted.contentType);
  }

  @Test
  public void aResponseWithContentLengthKeepsItsLength() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world");
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals("Length", posted.framing);
    assertEquals("hello world", posted.bodyText());
  }

  @Test
  public void aChunkedResponseReachesTheProxyWithItsTrailers() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\n"
        + "Content-Type: text/plain\r\n"
        + "Transfer-Encoding: chunked\r\n"
        + "Trailer: X-Digest\r\n"
        + "\r\n"
        + "4\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Digest: sha-256=xyz\r\n\r\n");
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals("Chunked", posted.framing);
    assertEquals(Headers.of("Content-Type", "text/plain", "Transfer-Encoding", "chunked"), posted.head.headers());
    assertEquals("abcdefg", posted.bodyText());
    assertEquals(Headers.of("X-Digest", "sha-256=xyz"), posted.trailers);
  }

  @Test
  public void aResponseThatEndsWhenTheBackendClosesIsChunked() throws Exception {
    backend.respondWith((request, out) -> {
      out.write(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"));
      return false;
    });
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals("Chunked", posted.framing);
    assertEquals("until the end", posted.bodyText());
  }

  @Test
  public void a204ResponseHasNoBody() throws Exception {
    backend.respondWith("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
    startAgent();
    proxy.enqueue("r1", bytes("DELETE /thing HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals(204, posted.head.status());
    assertEquals("None", posted.framing);
    assertEquals(Headers.of("X-A", "1"), posted.head.headers());
  }

  @Test
  public void a304ResponseHasNoBody() throws Exception {
    backend.respondWith("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals(304, posted.head.status());
    assertEquals("None", posted.framing);
    assertEquals(0, posted.body().length);
  }

  @Test
  public void aResponseToHeadKeepsContentLengthWithoutABody() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
    startAgent();
    proxy.enqueue("r1", bytes("HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals(200, posted.head.status());
    assertEquals("None", posted.framing);
    assertEquals(Headers.of("Content-Length", "1234"), posted.head.headers());
  }

  @Test
  public void aSlowResponseStreamsToTheProxyBeforeTheBackendFinishes() throws Exception {
    CountDownLatch firstPartSeen = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      out.write(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"));
      out.write(bytes("d\r\ndata: first\n\n\r\n"));
      out.flush();
      // The rest is held back until the proxy has seen the first event.
      firstPartSeen.await(10, TimeUnit.SECONDS);
      out.write(bytes("e\r\ndata: second\n\n\r\n0\r\n\r\n"));
      return true;
    });
    startAgent();
    proxy.enqueue("r1", bytes("GET /events HTTP/1.1\r\nHost: h\r\nAccept: text/event-stream\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponseHead("r1", WAIT);
    boolean streamed = posted.awaitBodyContaining("data: first", WAIT);
    firstPartSeen.countDown();

    assertTrue("the first event did not reach the proxy before the backend finished", streamed);
    assertEquals("data: first\n\ndata: second\n\n", proxy.awaitResponse("r1", WAIT).bodyText());
  }

  @Test
  public void aResponseHeadReachesTheProxyBeforeASlowBodyBegins() throws Exception {
    CountDownLatch headSeen = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      out.write(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
      out.flush();
      headSeen.await(10, TimeUnit.SECONDS);
      out.write(bytes("hello"));
      return true;
    });
    startAgent();
    proxy.enqueue("r1", bytes("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponseHead("r1", WAIT);
    headSeen.countDown();

    assertEquals(200, posted.head.status());
    assertEquals("hello", proxy.awaitResponse("r1", WAIT).bodyText());
  }

  @Test
  public void partOfABodyOfKnownLengthStreamsBeforeTheRestArrives() throws Exception {
    CountDownLatch firstPartSeen = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      out.write(bytes("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfirst"));
      out.flush();
      firstPartSeen.await(10, TimeUnit.SECONDS);
      out.write(bytes(" later"));
      return true;
    });
    startAgent();
    proxy.enqueue("r1", bytes("GET /parts HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponseHead("r1", WAIT);
    boolean streamed = posted.awaitBodyContaining("first", WAIT);
    firstPartSeen.countDown();

    assertTrue("the first part did not reach the proxy before the backend sent the rest", streamed);
    assertEquals("first later", proxy.awaitResponse("r1", WAIT).bodyText());
  }

  @Test
  public void anUnreachableBackendGetsA502ThatSaysSo() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    startAgent(b -> b.target("127.0.0.1:" + closedPort));
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals(502, posted.head.status());
    assertEquals("inverting-proxy agent: backend 127.0.0.1:" + closedPort
        + " is unreachable: Connection refused\n", posted.bodyText());
    assertEquals("text/plain; charset=utf-8", posted.head.headers().first("Content-Type").orElse(""));
  }

  @Test
  public void aBackendSlowerThanTheForwardingTimeoutGetsA502() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      never.await(10, TimeUnit.SECONDS);
      return false;
    });
    startAgent(b -> b.requestForwardingTimeout(Duration.ofMillis(300)));
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);
    never.countDown();

    assertEquals(502, posted.head.status());
    assertTrue(posted.bodyText(), posted.bodyText().contains("did not respond within 300ms"));
  }

  @Test
  public void anIdListedTwiceIsReplayedOnce() throws Exception {
    proxy.enqueue(new ScriptedProxy.Queued("dup", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), "", true, 0));
    proxy.scriptPending(200, "[\"dup\",\"dup\"]");
    proxy.scriptPending(200, "[\"dup\"]");
    proxy.scriptPending(200, "[\"dup\"]");
    startAgent();

    proxy.awaitResponse("dup", WAIT);
    proxy.awaitPolls(5, WAIT);

    assertEquals(1, proxy.requestFetches("dup"));
    assertEquals(1, proxy.responsePosts());
    assertNotNull(backend.awaitRequest(WAIT));
    assertNull(backend.pollRequest(Duration.ofMillis(100)));
  }

  @Test
  public void aPendingAnswerOfAnEmptyArrayMeansNoRequests() throws Exception {
    assertPendingAnswerMeansNoRequests("[]");
  }

  @Test
  public void aPendingAnswerOfNullMeansNoRequests() throws Exception {
    assertPendingAnswerMeansNoRequests("null");
  }

  @Test
  public void anEmptyPendingAnswerMeansNoRequests() throws Exception {
    assertPendingAnswerMeansNoRequests("");
  }

  /** The odd answer is taken as "nothing yet", not as a failed poll. */
  private void assertPendingAnswerMeansNoRequests(String body) throws Exception {
    for (int i = 0; i < 3; i++) {
      proxy.scriptPending(200, body);
    }
    proxy.enqueue(new ScriptedProxy.Queued("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), "", true, 0));
    proxy.scriptPending(200, "[\"r1\"]");
    startAgent();

    proxy.awaitResponse("r1", WAIT);

    assertEquals(java.util.List.of(), log.messagesContaining("polling the proxy failed"));
  }

  @Test
  public void anUnparseablePendingAnswerCountsAsAFailedPoll() throws Exception {
    proxy.scriptPending(200, "{\"not\": \"a list\"}");
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    startAgent();

    proxy.awaitResponse("r1", WAIT);

    assertEquals(1, log.messagesContaining("polling the proxy failed").size());
  }

  @Test
  public void eachForwardedRequestLogsOneInfoLine() throws Exception {
    startAgent();
    proxy.enqueue("r1", bytes("GET /path?secret=1 HTTP/1.1\r\nHost: h\r\n\r\n"));
    proxy.awaitResponse("r1", WAIT);

    java.util.List<String> lines = log.awaitMessagesContaining("request r1:", 1, WAIT);

    assertEquals(1, lines.size());
    assertTrue(lines.get(0), lines.get(0).matches("request r1: GET /path -> 200, 2 bytes, \\d+ ms"));
  }

  @Test
  public void anErrorOnThePollingThreadStopsTheAgentForGood() throws Exception {
    startAgent(b -> b.credentials(() -> {
      throw new AssertionError("credentials blew up");
    }));
    java.util.concurrent.CompletableFuture<Void> stopped = java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        agent.awaitStopped();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    stopped.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(agent.failed());
  }

  @Test
  public void failedPollsBackOffExponentiallyAndPollingRecovers() throws Exception {
    int failures = 8;
    for (int i = 0; i < failures; i++) {
      proxy.scriptPending(500, "proxy trouble");
    }
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    startAgent();

    proxy.awaitResponse("r1", WAIT);

    // Waits of 1, 2, 4, ... 64 ms (each within 10 %) lie between the 8 failed polls and the next.
    java.util.List<Long> polls = proxy.pendingPollNanos();
    long waitedMillis = (polls.get(failures) - polls.get(0)) / 1_000_000;
    assertTrue("waited only " + waitedMillis + " ms", waitedMillis >= (long) (0.9 * 255));
    long lastWaitMillis = (polls.get(failures) - polls.get(failures - 1)) / 1_000_000;
    assertTrue("last wait " + lastWaitMillis + " ms", lastWaitMillis >= (long) (0.9 * 128));
  }

  @Test
  public void agentRequestIsRetriedAfterA5xx() throws Exception {
    proxy.enqueue(new ScriptedProxy.Queued("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), "", true, 2));
    proxy.list("r1");
    startAgent();

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals(200, posted.head.status());
    assertEquals(3, proxy.requestFetches("r1"));
  }

  @Test
  public void aRequestWithoutAStartTimeIsNotForwarded() throws Exception {
    proxy.enqueue(new ScriptedProxy.Queued("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), "", false, 0));
    proxy.list("r1");
    startAgent();

    proxy.awaitPolls(4, WAIT);

    assertEquals(1, proxy.requestFetches("r1"));
    assertNull(backend.pollRequest(Duration.ofMillis(200)));
    assertFalse(proxy.hasResponse("r1"));
  }

  @Test
  public void everyProxyCallNamesTheBackend() throws Exception {
    startAgent();
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    proxy.awaitResponse("r1", WAIT);

    for (ScriptedProxy.Call call : proxy.calls()) {
      assertEquals(call.toString(), "backend-1", call.backendId());
    }
  }

  @Test
  public void backendConnectionsAreKeptAliveAcrossRequests() throws Exception {
    startAgent();
    for (int i = 0; i < 3; i++) {
      proxy.enqueue("r" + i, bytes("GET /" + i + " HTTP/1.1\r\nHost: h\r\n\r\n"));
      proxy.awaitResponse("r" + i, WAIT);
      peers.awaitIdleBackendConnections(1);
    }

    assertEquals(1, backend.connections());
  }

  @Test
  public void closeEndsALongPollAtOnce() throws Exception {
    proxy.scriptPending(200, "[]");
    proxy.holdPollsFor(Duration.ofSeconds(20));
    startAgent();
    proxy.awaitPolls(2, WAIT);

    long started = System.nanoTime();
    agent.close();
    long millis = (System.nanoTime() - started) / 1_000_000;
    int polls = proxy.pendingPolls();
    Thread.sleep(300);

    assertTrue("close took " + millis + " ms", millis < 1000);
    assertEquals(polls, proxy.pendingPolls());
  }

  @Test
  public void closeLetsARequestInFlightFinish() throws Exception {
    CountDownLatch backendReached = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      backendReached.countDown();
      Thread.sleep(300);
      out.write(bytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate"));
      return true;
    });
    startAgent(b -> b.shutdownGracePeriod(Duration.ofSeconds(3)));
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    assertTrue(backendReached.await(5, TimeUnit.SECONDS));

    agent.close();

    assertEquals("late", proxy.awaitResponse("r1", Duration.ofMillis(100)).bodyText());
  }

  @Test
  public void aRequestHandedOverInTheAnswerToAResponseIsForwardedWithoutFetchingIt() throws Exception {
    backend.respondWith(RawBackend.OK);
    startAgent();
    proxy.enqueue(new ScriptedProxy.Queued("second", bytes("GET /second HTTP/1.1\r\nHost: h\r\n\r\n"),
        "bob@example.com", true, 0));
    proxy.handOverAfter("first", "second");
    proxy.enqueue("first", bytes("GET /first HTTP/1.1\r\nHost: h\r\n\r\n"));

    assertEquals("GET /first HTTP/1.1", backend.awaitRequest(WAIT).rawText().lines().findFirst().orElseThrow());
    assertEquals("GET /second HTTP/1.1", backend.awaitRequest(WAIT).rawText().lines().findFirst().orElseThrow());
    assertEquals(200, proxy.awaitResponse("second", WAIT).head.status());
    assertEquals(1, proxy.requestFetches("first"));
    assertEquals(0, proxy.requestFetches("second"));
    assertEquals("next-request", proxy.announcedOnResponses().get(0));
  }

  @Test
  public void withChainingOffTheAgentAnnouncesNothingAndFetchesEveryRequest() throws Exception {
    backend.respondWith(RawBackend.OK);
    startAgent(b -> b.chainRequests(false));
    proxy.enqueue(new ScriptedProxy.Queued("second", bytes("GET /second HTTP/1.1\r\nHost: h\r\n\r\n"),
        "alice@example.com", true, 0));
    proxy.handOverAfter("first", "second"); // the proxy lists it instead, as the agent did not announce
    proxy.enqueue("first", bytes("GET /first HTTP/1.1\r\nHost: h\r\n\r\n"));

    assertEquals(200, proxy.awaitResponse("second", WAIT).head.status());
    assertEquals(1, proxy.requestFetches("second"));
    assertNull(proxy.announcedOnResponses().get(0));
  }
}
