package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Byte compatibility with the original Go implementation, in both directions:
 * <ul>
 *   <li>a client, OUR stand-alone server (the jar), the Go agent ({@code interop/goagent}) and a backend;</li>
 *   <li>a client, the Go proxy ({@code interop/goproxy}), OUR agent (the jar) and a backend.</li>
 * </ul>
 * The Go programs use only Go's standard library, whose net/http is where all of the original's wire
 * behaviour comes from (see their header comments). Expectations that differ between the routes are
 * the original's own behaviour: its agent sends bodies close-delimited without Content-Length; its proxy
 * chunks every response and buffers a few KiB before anything reaches the client.
 */
public class GoInteropTest {
  /** One way through: the port clients use and the backend behind it. */
  record Route(String name, int port, RecordingBackend backend) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  private static Route goAgent;  // client -> our server -> Go agent -> backend
  private static Route goProxy;  // client -> Go proxy -> our agent -> backend
  private static Path ourAgentLog;

  @BeforeClass
  public static void start() throws Exception {
    GoPrograms.build("goproxy");
    GoPrograms.build("goagent");

    RecordingBackend backendA = new RecordingBackend((r, body, out) -> answer(r, out, OK));
    String server = Processes.startServer("256m", GoPrograms.log("our-server"));
    String admin = Processes.adminUrl(GoPrograms.log("our-server"));
    register(admin, "go-agent", "/");
    GoPrograms.startAgent(server, "go-agent", backendA.hostAndPort());
    int deadPort;
    try (java.net.ServerSocket closed = new java.net.ServerSocket(0)) {
      deadPort = closed.getLocalPort();
    }
    register(admin, "go-agent-dead", "/dead");
    GoPrograms.startAgent(server, "go-agent-dead", "127.0.0.1:" + deadPort);
    goAgent = new Route("our server -> Go agent", URI.create(server).getPort(), backendA);

    RecordingBackend backendB = new RecordingBackend((r, body, out) -> answer(r, out, OK));
    // A short hold makes the Go proxy answer idle polls with `null` several times during the run.
    String proxy = GoPrograms.startProxy("--list-pending-timeout", "1s");
    ourAgentLog = GoPrograms.log("our-agent");
    Processes.startAgent("256m", ourAgentLog, proxy, "java-agent", backendB.hostAndPort());
    goProxy = new Route("Go proxy -> our agent", URI.create(proxy).getPort(), backendB);

    awaitServing(goAgent);
    awaitServing(goProxy);
  }

  @AfterClass
  public static void stop() throws Exception {
    GoPrograms.killAll();
    Processes.killAll();
    for (Route r : new Route[] {goAgent, goProxy}) {
      if (r != null) {
        r.backend().close();
      }
    }
  }

  private static void register(String admin, String id, String prefix) throws Exception {
    HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(admin + "api/backends"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\",\"endUser\":\"allUsers\","
            + "\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"" + prefix + "\"]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(created.body(), 200, created.statusCode());
  }

  /** Waits until a request goes all the way through (our server answers 503 until the agent polls). */
  private static void awaitServing(Route route) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    int status = -1;
    while (System.nanoTime() < deadline) {
      try (RawClient client = new RawClient(route.port())) {
        IncomingMessage<ResponseHead> response = client.send("GET /ready HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
        status = response.head().status();
        response.body().readAllBytes();
        if (status == 200) {
          return;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError(route + " never served a request (last status " + status + "); logs in " + GoPrograms.WORK);
  }

  private static void answer(RecordingBackend.Received r, OutputStream out, String response) throws IOException {
    String bytes = r.head().method().equals("HEAD") ? response.substring(0, response.indexOf("\r\n\r\n") + 4) : response;
    out.write(bytes.getBytes(ISO_8859_1));
  }

  /** Makes {@code route}'s backend answer with {@code handler}, recording each request into the returned queue. */
  private static BlockingQueue<RecordingBackend.Received> serve(Route route, RecordingBackend.Handler handler) {
    BlockingQueue<RecordingBackend.Received> got = new LinkedBlockingQueue<>();
    route.backend().handler((r, body, out) -> {
      got.add(r);
      handler.respond(r, body, out);
    });
    return got;
  }

  private static RecordingBackend.Received next(Route route, BlockingQueue<RecordingBackend.Received> got) throws Exception {
    RecordingBackend.Received r = got.poll(20, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError(route + ": the backend received nothing within 20 s; logs in " + GoPrograms.WORK);
    }
    return r;
  }

  private static String text(IncomingMessage<?> m) throws IOException {
    return new String(m.body().readAllBytes(), ISO_8859_1);
  }

  // ---------------------------------------------------------------------------------------------
  // The scenarios, each run over both routes.

  /** Path and query with every kind of escape, the client's Host and repeated headers reach the backend as sent. */
  private void encodedTargetHostAndRepeatedHeaders(Route route) throws Exception {
    BlockingQueue<RecordingBackend.Received> got = serve(route, (r, body, out) ->
        answer(r, out, "HTTP/1.1 200 OK\r\nX-Reply: yes\r\nContent-Length: 5\r\n\r\nfound"));
    String target = "/q/a%20b/%3A%C3%A9;p=1?q=%E2%9C%93&x=1+2&y=%26&empty=&flag";
    try (RawClient client = new RawClient(route.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET " + target + " HTTP/1.1\r\nHost: interop.example:8443\r\n"
          + "User-Agent: raw-client/1\r\nX-Multi: 1\r\nX-Multi: 2\r\nX-Multi: 3\r\n\r\n").response("GET");
      assertEquals(route.name(), 200, response.head().status());
      assertEquals(route.name(), "yes", response.head().headers().first("X-Reply").orElse(null));
      assertEquals(route.name(), "found", text(response));
    }
    RecordingBackend.Received r = next(route, got);
    assertEquals(route.name(), "GET", r.head().method());
    assertEquals(route.name(), target, r.head().target());
    assertEquals(route.name(), "interop.example:8443", r.head().headers().first("Host").orElse(null));
    assertEquals(route.name(), List.of("1", "2", "3"), r.head().headers().all("X-Multi"));
    assertEquals(route.name(), "raw-client/1", r.head().headers().first("User-Agent").orElse(null));
    assertFalse(route.name(), r.head().headers().contains("Content-Length"));
    assertFalse(route.name(), r.head().headers().contains("Transfer-Encoding"));
  }

  /** A body framed by Content-Length arrives with the same length and bytes; the answer's status and headers return. */
  private void postWithContentLength(Route route) throws Exception {
    BlockingQueue<RecordingBackend.Received> got = serve(route, (r, body, out) ->
        answer(r, out, "HTTP/1.1 201 Created\r\nLocation: /form/1\r\nContent-Length: 7\r\n\r\ncreated"));
    try (RawClient client = new RawClient(route.port())) {
      IncomingMessage<ResponseHead> response = client.send("POST /form HTTP/1.1\r\nHost: h\r\n"
          + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\na=1&b=%20&c").response("POST");
      assertEquals(route.name(), 201, response.head().status());
      assertEquals(route.name(), "/form/1", response.head().headers().first("Location").orElse(null));
      assertEquals(route.name(), "created", text(response));
    }
    RecordingBackend.Received r = next(route, got);
    assertEquals(route.name(), "POST /form", r.head().method() + " " + r.head().target());
    assertEquals(route.name(), "11", r.head().headers().first("Content-Length").orElse(null));
    assertEquals(route.name(), "application/x-www-form-urlencoded", r.head().headers().first("Content-Type").orElse(null));
    assertEquals(route.name(), "a=1&b=%20&c", new String(r.body(), ISO_8859_1));
  }

  /** A chunked upload stays chunked (no length is invented) and its bytes arrive whole. */
  private RecordingBackend.Received chunkedUpload(Route route) throws Exception {
    BlockingQueue<RecordingBackend.Received> got = serve(route, (r, body, out) -> answer(r, out, OK));
    try (RawClient client = new RawClient(route.port())) {
      client.send("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
          + "5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: 1234\r\n\r\n");
      IncomingMessage<ResponseHead> response = client.response("POST");
      assertEquals(route.name(), 200, response.head().status());
      assertEquals(route.name(), "ok", text(response));
    }
    RecordingBackend.Received r = next(route, got);
    assertEquals(route.name(), "hello, world", new String(r.body(), ISO_8859_1));
    assertEquals(route.name(), "chunked", r.head().headers().first("Transfer-Encoding").orElse(null));
    assertFalse(route.name(), r.head().headers().contains("Content-Length"));
    return r;
  }

  /**
   * Several Set-Cookie fields keep their order; headers the backend's Connection names, and the agent's own
   * framing headers, never reach the client; the client's connection stays usable.
   */
  private void setCookiesInOrderAndHopByHopDropped(Route route) throws Exception {
    serve(route, (r, body, out) -> answer(r, out, r.head().target().equals("/cookies")
        ? "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nX-One: 1\r\nSet-Cookie: b=2; HttpOnly\r\n"
            + "Set-Cookie: c=3\r\nConnection: X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nContent-Length: 4\r\n\r\nbody"
        : OK));
    try (RawClient client = new RawClient(route.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /cookies HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      Headers h = response.head().headers();
      assertEquals(route.name(), List.of("a=1; Path=/", "b=2; HttpOnly", "c=3"), h.all("Set-Cookie"));
      assertEquals(route.name(), "1", h.first("X-One").orElse(null));
      assertFalse(route.name() + ": " + h, h.contains("X-Secret"));
      assertFalse(route.name() + ": " + h, h.contains("Keep-Alive"));
      // The Go agent's message says "Connection: close" (its body is close-delimited): that is the agent's hop only.
      assertFalse(route.name() + ": " + h, h.all("Connection").stream().anyMatch(v -> v.toLowerCase().contains("close")));
      assertEquals(route.name(), "body", text(response));
      IncomingMessage<ResponseHead> second = client.send("GET /second HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      assertEquals(route.name(), 200, second.head().status());
      assertEquals(route.name(), "ok", text(second));
    }
  }

  /** 204, 304 and HEAD answers have no body, and the client's connection goes on to a normal request. */
  private void responsesWithoutBodies(Route route) throws Exception {
    serve(route, (r, body, out) -> answer(r, out, switch (r.head().target()) {
      case "/s204" -> "HTTP/1.1 204 No Content\r\nX-S: 204\r\n\r\n";
      case "/s304" -> "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n";
      case "/head" -> "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-S: head\r\nContent-Length: 12345\r\n\r\n";
      default -> OK;
    }));
    try (RawClient client = new RawClient(route.port())) {
      IncomingMessage<ResponseHead> r204 = client.send("GET /s204 HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      assertEquals(route.name(), 204, r204.head().status());
      assertEquals(route.name(), "204", r204.head().headers().first("X-S").orElse(null));
      assertEquals(route.name(), "", text(r204));

      IncomingMessage<ResponseHead> r304 = client.send("GET /s304 HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\n\r\n")
          .response("GET");
      assertEquals(route.name(), 304, r304.head().status());
      assertEquals(route.name(), "\"v1\"", r304.head().headers().first("ETag").orElse(null));
      assertEquals(route.name(), "", text(r304));

      IncomingMessage<ResponseHead> head = client.send("HEAD /head HTTP/1.1\r\nHost: h\r\n\r\n").response("HEAD");
      assertEquals(route.name(), 200, head.head().status());
      assertEquals(route.name(), "head", head.head().headers().first("X-S").orElse(null));
      assertEquals(route.name(), "text/plain", head.head().headers().first("Content-Type").orElse(null));
      assertEquals(route.name(), "", text(head));

      IncomingMessage<ResponseHead> after = client.send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      assertEquals(route.name(), 200, after.head().status());
      assertEquals(route.name(), "ok", text(after));
    }
  }

  /** One MiB of random bytes goes up with Content-Length and comes back (the backend echoes it) intact. */
  private void oneMebibyteBothWays(Route route) throws Exception {
    byte[] upload = new byte[1 << 20];
    new Random(42).nextBytes(upload);
    BlockingQueue<RecordingBackend.Received> got = serve(route, (r, body, out) -> {
      out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + r.body().length
          + "\r\n\r\n").getBytes(ISO_8859_1));
      out.write(r.body());
    });
    try (RawClient client = new RawClient(route.port())) {
      client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: " + upload.length + "\r\n\r\n").send(upload);
      IncomingMessage<ResponseHead> response = client.response("POST");
      assertEquals(route.name(), 200, response.head().status());
      byte[] echoed = response.body().readAllBytes();
      assertEquals(route.name(), upload.length, echoed.length);
      assertArrayEquals(route.name(), upload, echoed);
    }
    RecordingBackend.Received r = next(route, got);
    assertEquals(route.name(), Integer.toString(upload.length), r.head().headers().first("Content-Length").orElse(null));
    assertArrayEquals(route.name(), upload, r.body());
  }

  /**
   * The first part of a streamed answer reaches the client while the backend still holds the rest back until the
   * client has it: a proxy or agent that waits for the whole body deadlocks here (until the backend gives up).
   */
  private void streamedResponse(Route route, int firstPartSize, int clientNeeds) throws Exception {
    CountDownLatch clientSawFirst = new CountDownLatch(1);
    byte[] first = new byte[firstPartSize];
    Arrays.fill(first, (byte) 'a');
    serve(route, (r, body, out) -> {
      out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(ISO_8859_1));
      try (OutputStream events = MessageWriter.openBody(out, BodyFraming.CHUNKED, Headers::empty)) {
        events.write(first);
        events.flush();
        out.flush();
        boolean seen = clientSawFirst.await(10, TimeUnit.SECONDS);
        events.write((seen ? "|second" : "|TIMEOUT: the client never saw the first part").getBytes(ISO_8859_1));
      }
    });
    try (RawClient client = new RawClient(route.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /events HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      assertEquals(route.name(), 200, response.head().status());
      assertEquals(route.name(), "text/event-stream", response.head().headers().first("Content-Type").orElse(null));
      byte[] start = response.body().readNBytes(clientNeeds);
      clientSawFirst.countDown();
      byte[] rest = response.body().readAllBytes();
      assertArrayEquals(route.name(), Arrays.copyOf(first, clientNeeds), start);
      assertEquals(route.name(), new String(first, clientNeeds, first.length - clientNeeds, ISO_8859_1) + "|second",
          new String(rest, ISO_8859_1));
    }
  }

  /**
   * A client that gives up while the backend works does not wedge anything: the agent's late answer is dropped
   * and the next request goes through.
   */
  private void goneClient(Route route) throws Exception {
    CountDownLatch clientGone = new CountDownLatch(1);
    BlockingQueue<RecordingBackend.Received> got = serve(route, (r, body, out) -> {
      if (r.head().target().equals("/slow")) {
        clientGone.await(10, TimeUnit.SECONDS);
        Thread.sleep(200);
        answer(r, out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
      } else {
        answer(r, out, OK);
      }
    });
    RawClient impatient = new RawClient(route.port());
    impatient.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
    assertEquals(route.name(), "/slow", next(route, got).head().target());
    impatient.close();
    clientGone.countDown();
    Thread.sleep(500);
    for (int i = 0; i < 3; i++) {
      try (RawClient client = new RawClient(route.port())) {
        IncomingMessage<ResponseHead> response = client.send("GET /next" + i + " HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
        assertEquals(route.name(), 200, response.head().status());
        assertEquals(route.name(), "ok", text(response));
      }
      assertEquals(route.name(), "/next" + i, next(route, got).head().target());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (a) client -> our stand-alone server -> the Go agent -> backend

  @Test
  public void ourServerAndGoAgent_encodedTargetHostAndRepeatedHeaders() throws Exception {
    encodedTargetHostAndRepeatedHeaders(goAgent);
  }

  @Test
  public void ourServerAndGoAgent_postWithContentLength() throws Exception {
    postWithContentLength(goAgent);
  }

  /**
   * Our server hands the client's trailers on after the last chunk (Go's ReadRequest accepts them), but the
   * original agent's reverse proxy copies the request before they are read, so none reach the backend: they
   * are not asserted here.
   */
  @Test
  public void ourServerAndGoAgent_chunkedUpload() throws Exception {
    chunkedUpload(goAgent);
  }

  @Test
  public void ourServerAndGoAgent_setCookiesInOrderAndHopByHopDropped() throws Exception {
    setCookiesInOrderAndHopByHopDropped(goAgent);
  }

  @Test
  public void ourServerAndGoAgent_responsesWithoutBodies() throws Exception {
    responsesWithoutBodies(goAgent);
  }

  @Test
  public void ourServerAndGoAgent_oneMebibyteBothWays() throws Exception {
    oneMebibyteBothWays(goAgent);
  }

  /** The Go agent streams; so must our server, even for a 13-byte event. */
  @Test
  public void ourServerAndGoAgent_streamedResponse() throws Exception {
    streamedResponse(goAgent, 13, 13);
  }

  @Test
  public void ourServerAndGoAgent_goneClient() throws Exception {
    goneClient(goAgent);
  }

  /**
   * The Go agent's reverse proxy answers 502 with an empty body when the backend refuses connections; our
   * server relays exactly that (its own 502 body would say something).
   */
  @Test
  public void ourServerAndGoAgent_unreachableBackendIsTheAgents502() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try (RawClient client = new RawClient(goAgent.port())) {
        IncomingMessage<ResponseHead> response = client.send("GET /dead/x HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
        String body = text(response);
        if (response.head().status() == 503 && System.nanoTime() < deadline) {
          Thread.sleep(100); // that Go agent has not polled yet
          continue;
        }
        assertEquals(body, 502, response.head().status());
        assertEquals("", body);
        return;
      }
    }
  }

  /**
   * Date is a singleton field (RFC 9110 section 6.6.1). The original proxy relays the backend's Date and adds
   * none (Go's server only adds Date when the handler set none); a client must never see two.
   */
  @Test
  public void ourServerAndGoAgent_backendDateIsTheOnlyDate() throws Exception {
    serve(goAgent, (r, body, out) -> answer(r, out,
        "HTTP/1.1 200 OK\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 2\r\n\r\nok"));
    try (RawClient client = new RawClient(goAgent.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /dated HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      assertEquals(List.of("Mon, 02 Jan 2006 15:04:05 GMT"), response.head().headers().all("Date"));
      assertEquals("ok", text(response));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (b) client -> the Go proxy -> our agent -> backend

  @Test
  public void goProxyAndOurAgent_encodedTargetHostAndRepeatedHeaders() throws Exception {
    encodedTargetHostAndRepeatedHeaders(goProxy);
  }

  @Test
  public void goProxyAndOurAgent_postWithContentLength() throws Exception {
    postWithContentLength(goProxy);
  }

  /** Go's Request.Write carries the client's trailers after the chunks; our agent passes them to the backend. */
  @Test
  public void goProxyAndOurAgent_chunkedUploadWithTrailers() throws Exception {
    RecordingBackend.Received r = chunkedUpload(goProxy);
    assertEquals("1234", r.trailers().first("X-Checksum").orElse(null));
  }

  @Test
  public void goProxyAndOurAgent_setCookiesInOrderAndHopByHopDropped() throws Exception {
    setCookiesInOrderAndHopByHopDropped(goProxy);
  }

  @Test
  public void goProxyAndOurAgent_responsesWithoutBodies() throws Exception {
    responsesWithoutBodies(goProxy);
  }

  @Test
  public void goProxyAndOurAgent_oneMebibyteBothWays() throws Exception {
    oneMebibyteBothWays(goProxy);
  }

  /**
   * The original proxy never flushes, so its ResponseWriter holds back a few KiB: a 64 KiB first part shows
   * that our agent streams (the client has 32 KiB while the backend still waits).
   */
  @Test
  public void goProxyAndOurAgent_streamedResponse() throws Exception {
    streamedResponse(goProxy, 64 * 1024, 32 * 1024);
  }

  /** The original proxy leaves an answer for a gone client hanging; our agent keeps serving others meanwhile. */
  @Test
  public void goProxyAndOurAgent_goneClient() throws Exception {
    goneClient(goProxy);
  }

  /**
   * The Go proxy answers an idle poll with {@code null} (json.Marshal of a nil slice) after its 1 s hold; our
   * agent treats that as "no requests", not as a failure, and serves the next request at once.
   */
  @Test
  public void goProxyAndOurAgent_nullPendingListIsNoRequests() throws Exception {
    // What an idle poll of the Go proxy answers (nothing is queued now, so this poll steals no request).
    HttpResponse<String> idle = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + goProxy.port() + "/agent/pending"))
        .header("X-Inverting-Proxy-Backend-ID", "java-agent").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, idle.statusCode());
    assertEquals("null", idle.body());
    Thread.sleep(1500);
    serve(goProxy, (r, body, out) -> answer(r, out, OK));
    long started = System.nanoTime();
    try (RawClient client = new RawClient(goProxy.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /after-idle HTTP/1.1\r\nHost: h\r\n\r\n").response("GET");
      assertEquals(200, response.head().status());
      assertEquals("ok", text(response));
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertTrue("took " + millis + " ms", millis < 5000);
    String log = Files.readString(ourAgentLog);
    assertFalse(log, log.contains("polling the proxy failed"));
  }
}
