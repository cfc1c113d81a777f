package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * A client, the stand-alone proxy, our agent and a backend that records what it receives; every test
 * runs with the fast paths on and with them off.
 */
@RunWith(Parameterized.class)
public class ProxyThroughAgentTest {
  @Parameterized.Parameters(name = "{0}")
  public static List<FastPaths> configurations() {
    return FastPaths.both();
  }

  private final FastPaths fastPaths;
  private Stack stack;
  private RecordingBackend backend;

  public ProxyThroughAgentTest(FastPaths fastPaths) {
    this.fastPaths = fastPaths;
  }

  @Before
  public void start() throws Exception {
    backend = new RecordingBackend((r, body, out) -> out.write(("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        + (r.head().method().equals("HEAD") ? "" : "ok")).getBytes(ISO_8859_1)));
    stack = new Stack(fastPaths);
    stack.backend("b", backend.hostAndPort());
  }

  @After
  public void stop() throws Exception {
    stack.close();
    backend.close();
  }

  private String host() {
    return "127.0.0.1:" + stack.port();
  }

  @Test
  public void smallRequestsTakeTheChannelOnlyWhenTheFastPathsAreOn() throws Exception {
    if (fastPaths.on()) {
      Await.until(() -> stack.server.exchanges().channelCount("b") == 1, "the agent's channel");
    }
    for (int i = 0; i < 3; i++) {
      try (RawClient client = new RawClient(stack.port())) {
        IncomingMessage<ResponseHead> response = client.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
        assertEquals("ok", new String(response.body().readAllBytes(), ISO_8859_1));
      }
    }
    if (fastPaths.on()) {
      assertEquals(3, stack.server.exchanges().sentOverChannels());
    } else {
      assertEquals("no request over a channel", 0, stack.server.exchanges().sentOverChannels());
      assertEquals("no channel attached", 0, stack.server.webSockets().channelCount());
    }
  }

  @Test
  public void everyMethodReachesTheBackendUnchanged() throws Exception {
    for (String method : List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")) {
      boolean body = !method.equals("GET") && !method.equals("HEAD");
      String request = method + " /m/" + method.toLowerCase() + "?x=1 HTTP/1.1\r\nHost: " + host() + "\r\nX-Test: "
          + method + "\r\n" + (body ? "Content-Length: 4\r\n\r\nbody" : "\r\n");
      try (RawClient client = new RawClient(stack.port())) {
        IncomingMessage<ResponseHead> response = client.send(request).response(method);
        assertEquals(method, 200, response.head().status());
        response.body().readAllBytes();
      }
      RecordingBackend.Received got = backend.next();
      assertEquals(method, got.head().method());
      assertEquals("/m/" + method.toLowerCase() + "?x=1", got.head().target());
      assertEquals(host(), got.head().headers().first("Host").orElseThrow());
      assertEquals(method, got.head().headers().first("X-Test").orElseThrow());
      assertEquals(body ? "body" : "", new String(got.body(), ISO_8859_1));
    }
  }

  @Test
  public void theBackendsOwnApiAgentAndCronPathsReachIt() throws Exception {
    List<String> targets = List.of("GET /api/contents", "POST /api/kernels", "GET /api/backends", "GET /agent/x",
        "GET /agent/pending", "POST /agent/response", "GET /cron/x");
    for (String target : targets) {
      String method = target.substring(0, target.indexOf(' '));
      String path = target.substring(target.indexOf(' ') + 1);
      try (RawClient client = new RawClient(stack.port())) {
        IncomingMessage<ResponseHead> response = client.send(method + " " + path + " HTTP/1.1\r\nHost: " + host()
            + "\r\nContent-Length: 2\r\n\r\n{}").response(method);
        assertEquals(target, 200, response.head().status());
        assertEquals(target, "ok", new String(response.body().readAllBytes(), ISO_8859_1));
      }
      RecordingBackend.Received got = backend.next();
      assertEquals(target, got.head().method() + " " + got.head().target());
      assertEquals("{}", new String(got.body(), ISO_8859_1));
    }
  }

  @Test
  public void encodedTargetAndRepeatedHeadersArriveAsSent() throws Exception {
    try (RawClient client = new RawClient(stack.port())) {
      client.send("GET /a%20b/%3A%C3%A9?q=%E2%9C%93&x=1+2&y=%26 HTTP/1.1\r\nHost: " + host()
          + "\r\nAccept: a\r\nAccept: b\r\nX-Multi: 1\r\nX-Multi: 2\r\nX-Multi: 3\r\n\r\n").response("GET").body().readAllBytes();
    }
    RecordingBackend.Received got = backend.next();
    assertEquals("/a%20b/%3A%C3%A9?q=%E2%9C%93&x=1+2&y=%26", got.head().target());
    assertEquals(List.of("1", "2", "3"), got.head().headers().all("X-Multi"));
    assertEquals(List.of("a", "b"), got.head().headers().all("Accept"));
  }

  @Test
  public void responseHeadersAndSeveralSetCookiesReachTheClientInOrder() throws Exception {
    backend.handler((r, body, out) -> out.write(("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nX-One: 1\r\n"
        + "Set-Cookie: b=2; HttpOnly\r\nSet-Cookie: c=3\r\nConnection: close, X-Secret\r\nX-Secret: s\r\n"
        + "Content-Length: 0\r\n\r\n").getBytes(ISO_8859_1)));
    try (RawClient client = new RawClient(stack.port())) {
      ResponseHead head = client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").response("GET").head();
      assertEquals(List.of("a=1; Path=/", "b=2; HttpOnly", "c=3"), head.headers().all("Set-Cookie"));
      assertEquals("1", head.headers().first("X-One").orElseThrow());
      assertTrue("hop-by-hop headers named by Connection are dropped", head.headers().all("X-Secret").isEmpty());
    }
  }

  @Test
  public void statusCodesReachTheClient() throws Exception {
    for (int status : new int[] {200, 201, 204, 301, 304, 404, 500}) {
      boolean noBody = status == 204 || status == 304;
      backend.handler((r, body, out) -> out.write(("HTTP/1.1 " + status + " Whatever\r\n"
          + (status == 301 ? "Location: /elsewhere\r\n" : "")
          + (noBody ? "\r\n" : "Content-Length: 3\r\n\r\nabc")).getBytes(ISO_8859_1)));
      try (RawClient client = new RawClient(stack.port())) {
        IncomingMessage<ResponseHead> response = client.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
        assertEquals(status, response.head().status());
        assertEquals(noBody ? "" : "abc", new String(response.body().readAllBytes(), ISO_8859_1));
        if (status == 301) {
          assertEquals("/elsewhere", response.head().headers().first("Location").orElseThrow());
        }
      }
    }
  }

  @Test
  public void headResponseKeepsItsContentLengthWithoutABody() throws Exception {
    backend.handler((r, body, out) -> out.write("HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n".getBytes(ISO_8859_1)));
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> response = client.send("HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n").response("HEAD");
      assertEquals("12345", response.head().headers().first("Content-Length").orElseThrow());
    }
  }

  @Test
  public void bodiesOfZeroAndOneMebibyteGoBothWaysIntact() throws Exception {
    for (int size : new int[] {0, 1 << 20}) {
      byte[] upload = new byte[size];
      new Random(size).nextBytes(upload);
      backend.handler((r, body, out) -> {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + r.body().length + "\r\n\r\n").getBytes(ISO_8859_1));
        out.write(r.body());
      });
      try (RawClient client = new RawClient(stack.port())) {
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n").send(upload);
        IncomingMessage<ResponseHead> response = client.response("POST");
        assertEquals(Integer.toString(size), response.head().headers().first("Content-Length").orElseThrow());
        assertArrayEquals(upload, response.body().readAllBytes());
      }
      assertArrayEquals(upload, backend.next().body());
    }
  }

  @Test
  public void concurrentClientsEachGetTheirOwnResponse() throws Exception {
    // Busy enough that most requests reach the agent in the answer to another's response, and are
    // relayed by the thread that brings the response: neither may ever cross two exchanges.
    backend.handler((r, body, out) -> {
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + r.body().length + "\r\nX-Path: " + r.head().target()
          + "\r\n\r\n").getBytes(ISO_8859_1));
      out.write(r.body());
    });
    ExecutorService clients = Executors.newFixedThreadPool(24);
    try {
      List<Future<String>> outcomes = new ArrayList<>();
      for (int c = 0; c < 24; c++) {
        int client = c;
        outcomes.add(clients.submit(() -> {
          Random random = new Random(client);
          try (RawClient raw = new RawClient(stack.port())) {
            for (int i = 0; i < 25; i++) {
              byte[] upload = new byte[random.nextInt(3) == 0 ? random.nextInt(200_000) : random.nextInt(200)];
              random.nextBytes(upload);
              String path = "/echo/" + client + "/" + i;
              raw.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + upload.length + "\r\n\r\n")
                  .send(upload);
              IncomingMessage<ResponseHead> response = raw.response("POST");
              if (response.head().status() != 200
                  || !path.equals(response.head().headers().first("X-Path").orElse(""))
                  || !Arrays.equals(upload, response.body().readAllBytes())) {
                return path + ": got status " + response.head().status() + " for "
                    + response.head().headers().first("X-Path").orElse("nothing");
              }
            }
          }
          return "ok";
        }));
      }
      for (Future<String> outcome : outcomes) {
        assertEquals("ok", outcome.get(60, TimeUnit.SECONDS));
      }
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  public void chunkedUploadWithTrailersArrivesWithItsTrailers() throws Exception {
    try (RawClient client = new RawClient(stack.port())) {
      client.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
          + "5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: 1234\r\n\r\n");
      assertEquals(200, client.response("POST").head().status());
    }
    RecordingBackend.Received got = backend.next();
    assertEquals("hello, world", new String(got.body(), ISO_8859_1));
    assertEquals("chunked", got.head().headers().first("Transfer-Encoding").orElseThrow());
    assertEquals("1234", got.trailers().first("X-Checksum").orElseThrow());
  }

  @Test
  public void responseTrailersReachTheClient() throws Exception {
    backend.handler((r, body, out) -> {
      out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n\r\n".getBytes(ISO_8859_1));
      try (OutputStream chunked = MessageWriter.openBody(out, BodyFraming.CHUNKED, () -> Headers.of("X-Digest", "abc"))) {
        chunked.write("streamed body".getBytes(ISO_8859_1));
      }
    });
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /t HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n").response("GET");
      assertEquals("streamed body", new String(response.body().readAllBytes(), ISO_8859_1));
      assertEquals("abc", response.trailers().first("X-Digest").orElseThrow());
    }
  }

  @Test
  public void serverSentEventsReachTheClientBeforeTheBackendFinishes() throws Exception {
    java.util.concurrent.CountDownLatch clientSawFirst = new java.util.concurrent.CountDownLatch(1);
    backend.handler((r, body, out) -> {
      out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(ISO_8859_1));
      try (OutputStream events = MessageWriter.openBody(out, BodyFraming.CHUNKED, Headers::empty)) {
        events.write("data: first\n\n".getBytes(ISO_8859_1));
        events.flush();
        out.flush();
        // The backend does not finish until the client has the first event: a buffering proxy deadlocks here.
        if (!clientSawFirst.await(20, TimeUnit.SECONDS)) {
          events.write("data: TIMEOUT\n\n".getBytes(ISO_8859_1));
        }
        events.write("data: second\n\n".getBytes(ISO_8859_1));
      }
    });
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
      assertEquals("text/event-stream", response.head().headers().first("Content-Type").orElseThrow());
      byte[] first = response.body().readNBytes("data: first\n\n".length());
      assertEquals("data: first\n\n", new String(first, ISO_8859_1));
      clientSawFirst.countDown();
      assertEquals("data: second\n\n", new String(response.body().readAllBytes(), ISO_8859_1));
    }
  }

  @Test
  public void unreachableBackendIsA502WithAClearBody() throws Exception {
    java.net.ServerSocket closed = new java.net.ServerSocket(0);
    int deadPort = closed.getLocalPort();
    closed.close();
    stack.backend("dead", "127.0.0.1:" + deadPort);
    stack.server.registry().update(stack.server.registry().get("dead").orElseThrow().toBuilder()
        .pathPrefixes("/dead").lastUsed(null).build());
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /dead/x HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
      assertEquals(502, response.head().status());
      String body = new String(response.body().readAllBytes(), ISO_8859_1);
      assertTrue(body, body.contains("127.0.0.1:" + deadPort));
    }
  }

  @Test
  public void clientProtocolHeadersNeverReachTheBackend() throws Exception {
    try (RawClient client = new RawClient(stack.port())) {
      client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Inverting-Proxy-User-ID: root@evil\r\n"
          + "x-inverting-proxy-backend-id: other\r\n\r\n").response("GET").body().readAllBytes();
    }
    for (HeaderField f : backend.next().head().headers()) {
      assertTrue(f.toString(), !f.name().toLowerCase().startsWith("x-inverting-proxy-"));
    }
  }
}
