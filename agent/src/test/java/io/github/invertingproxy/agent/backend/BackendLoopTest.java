package io.github.invertingproxy.agent.backend;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.RawBackend;
import io.github.invertingproxy.agent.http.ConnectionPool;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.agent.http.SmallResponseReader;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The selector's exchanges against a real backend on a raw socket. */
public class BackendLoopTest {
  private static final String GET = "GET /a HTTP/1.1\r\nHost: b\r\n\r\n";

  private final ExecutorService connector = Executors.newCachedThreadPool();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private RawBackend backend;
  private BackendLoop loop;

  @Before
  public void start() throws Exception {
    backend = new RawBackend();
    loop = loop(Origin.parseBackend(backend.hostAndPort()), Duration.ZERO, 8);
  }

  @After
  public void stop() throws Exception {
    loop.close();
    backend.close();
    connector.shutdownNow();
    timer.shutdownNow();
  }

  private BackendLoop loop(Origin origin, Duration forwardingTimeout, int maxInFlight) throws IOException {
    return new BackendLoop(origin, Duration.ofSeconds(5), forwardingTimeout, connector,
        new SmallResponseReader(64 * 1024, MessageLimits.DEFAULT), maxInFlight, 4);
  }

  /** How one exchange ended. */
  private static class Outcome implements BackendLoop.Listener {
    final CompletableFuture<Object> ended = new CompletableFuture<>();
    volatile SmallResponseReader.Result response;
    volatile byte[] body;
    volatile SocketChannel channel;
    volatile ByteBuffer readSoFar;
    volatile ByteBuffer unwritten;
    volatile String thread;

    @Override
    public void completed(SmallResponseReader.Result response, byte[] body) {
      this.response = response;
      this.body = body;
      thread = Thread.currentThread().getName();
      ended.complete("completed");
    }

    @Override
    public void handedOff(SocketChannel channel, ByteBuffer readSoFar, ByteBuffer unwritten, Duration remaining) {
      this.channel = channel;
      this.readSoFar = readSoFar;
      this.unwritten = unwritten;
      ended.complete("handed off");
    }

    @Override
    public void failed(BackendFailure failure) {
      ended.complete(failure);
    }

    Object await() throws Exception {
      return ended.get(10, TimeUnit.SECONDS);
    }
  }

  private Outcome exchange(String request, boolean retryable) throws Exception {
    Outcome outcome = new Outcome();
    assertTrue(loop.exchange(request.getBytes(StandardCharsets.ISO_8859_1), false, retryable, outcome));
    outcome.await();
    return outcome;
  }

  @Test
  public void aSmallResponseArrivesWholeOnTheSelectorsThread() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello");

    Outcome o = exchange(GET, true);

    assertEquals("completed", o.await());
    assertEquals(200, o.response.status());
    assertEquals("1", o.response.headers().first("X-A").orElseThrow());
    assertEquals("hello", new String(o.body, StandardCharsets.US_ASCII));
    assertEquals("inverting-proxy-agent-backend-selector", o.thread);
    assertEquals(GET, backend.awaitRequest(Duration.ofSeconds(5)).rawText());
    assertEquals(0, loop.inFlight());
  }

  @Test
  public void theConnectionIsKeptForTheNextExchange() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertEquals("completed", exchange(GET, true).await());
    }
    assertEquals(1, backend.connections());
    assertEquals(1, loop.idleCount());
  }

  @Test(timeout = 60_000)
  public void connectionsAreKeptWhenTheBackendAnswersBeforeTheWritingThreadReturns() throws Exception {
    // On loopback the answer often arrives while the submitting thread is still in its write call.
    int threads = 4;
    int each = 500;
    ExecutorService submitters = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        runs.add(submitters.submit(() -> {
          for (int i = 0; i < each; i++) {
            assertEquals("completed", exchange(GET, true).await());
          }
          return null;
        }));
      }
      for (Future<?> run : runs) {
        run.get();
      }
    } finally {
      submitters.shutdownNow();
    }
    assertTrue("at most one connection per submitting thread, got " + backend.connections(),
        backend.connections() <= threads);
    assertEquals(backend.connections(), loop.idleCount());
  }

  @Test(timeout = 30_000)
  public void aSmallResponseReadBeforeTheWritingThreadReturnsLeavesTheConnectionKept() throws Exception {
    assertEquals("completed", exchange(GET, true).await()); // so that the next write is the caller's
    Outcome first = new Outcome();
    loop.onWriteReturned(() -> {
      try {
        first.await(); // the selector reads and delivers the answer while the writer is held here
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertTrue(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, first));
    loop.onWriteReturned(() -> { });

    assertEquals("completed", first.await());
    assertEquals(1, loop.idleCount());
    assertEquals(1, backend.connections());
  }

  @Test(timeout = 30_000)
  public void aStreamedResponseReadBeforeTheWritingThreadReturnsIsHandedOverOnceTheWriterIsDone() throws Exception {
    assertEquals("completed", exchange(GET, true).await()); // so that the next write is the caller's
    backend.respondWith("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    Outcome o = new Outcome();
    CompletableFuture<Boolean> endedWhileWriting = new CompletableFuture<>();
    loop.onWriteReturned(() -> {
      try {
        Thread.sleep(300); // long enough for the selector to read the head and come to hand it over
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      endedWhileWriting.complete(o.ended.isDone());
    });
    assertTrue(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, o));

    assertEquals("handed off", o.await());
    assertFalse("handed over before the writer knew what went out", endedWhileWriting.get());
    assertEquals(null, o.unwritten);
    assertEquals(0, loop.inFlight());
    o.channel.close();
  }

  @Test
  public void aConnectionTheBackendAsksToCloseIsNotKept() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    assertEquals("completed", exchange(GET, true).await());
    assertEquals("completed", exchange(GET, true).await());
    assertEquals(2, backend.connections());
  }

  @Test
  public void aStreamedResponseIsHandedOverForTheBlockingClientToReadFromItsFirstByte() throws Exception {
    String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    backend.respondWith(chunked);

    Outcome o = exchange(GET, true);

    assertEquals("handed off", o.await());
    assertTrue(o.channel.isBlocking());
    assertTrue(StandardCharsets.ISO_8859_1.decode(o.readSoFar.duplicate()).toString().startsWith("HTTP/1.1 200 OK\r\n"));
    ConnectionPool pool = new ConnectionPool(loop.origin(), false, Duration.ofSeconds(5), Http1Config.DEFAULT,
        BackendClient.FRAMING_OF_BODY, 4);
    BackendClient client = new BackendClient(pool, new HttpRequestExecutor(), timer, Duration.ZERO);
    RequestHead head = new RequestHead("GET", "/a", Headers.of("Host", "b"));
    try (BackendExchange exchange = client.receive(o.channel, o.readSoFar, null, loop::takeBack, head,
        Duration.ZERO)) {
      SerializedResponse response = exchange.serialize();
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      response.body().transferTo(body);
      assertEquals(200, response.head().status());
      assertEquals("abcdefg", body.toString(StandardCharsets.US_ASCII));
    }
    // Read to its end, the connection went back to the selector for the next exchange.
    assertEquals(0, pool.idleCount());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (loop.idleCount() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(1, loop.idleCount());
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertEquals("completed", exchange(GET, true).await());
    assertEquals(1, backend.connections());
    pool.close();
  }

  @Test(timeout = 30_000)
  public void aResponseThatStartsBeforeTheRequestIsWrittenGetsTheRestOfTheRequestFirst() throws Exception {
    int bodyBytes = 16 * 1024 * 1024; // far more than the socket buffers hold
    CompletableFuture<Long> bodyRead = new CompletableFuture<>();
    try (ServerSocket early = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try (java.net.Socket s = early.accept()) {
          java.io.InputStream in = s.getInputStream();
          int matched = 0;
          while (matched < 4) { // the head, up to its empty line
            int b = in.read();
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
          }
          s.getOutputStream().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
          Thread.sleep(300); // the selector sees the answer while the request is still on its way
          long n = in.readNBytes(bodyBytes).length;
          s.getOutputStream().write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
          bodyRead.complete(n);
          in.read(); // until the agent hangs up
        } catch (Exception e) {
          bodyRead.completeExceptionally(e);
        }
      });
      server.setDaemon(true);
      server.start();
      loop.close();
      loop = loop(Origin.parseBackend("127.0.0.1:" + early.getLocalPort()), Duration.ZERO, 8);
      ByteArrayOutputStream request = new ByteArrayOutputStream();
      request.write(("POST /upload HTTP/1.1\r\nHost: b\r\nContent-Length: " + bodyBytes + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      request.write(new byte[bodyBytes]);
      Outcome o = new Outcome();
      assertTrue(loop.exchange(request.toByteArray(), false, false, o));

      assertEquals("handed off", o.await());
      assertNotNull("part of the request was still unwritten", o.unwritten);
      assertTrue(o.unwritten.hasRemaining());
      ConnectionPool pool = new ConnectionPool(loop.origin(), false, Duration.ofSeconds(5), Http1Config.DEFAULT,
          BackendClient.FRAMING_OF_BODY, 4);
      BackendClient client = new BackendClient(pool, new HttpRequestExecutor(), timer, Duration.ZERO);
      RequestHead head = new RequestHead("POST", "/upload", Headers.of("Host", "b"));
      try (BackendExchange exchange = client.receive(o.channel, o.readSoFar, o.unwritten, c -> { }, head,
          Duration.ZERO)) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        exchange.serialize().body().transferTo(body);
        assertEquals("abc", body.toString(StandardCharsets.US_ASCII));
      }
      assertEquals(bodyBytes, (long) bodyRead.get(10, TimeUnit.SECONDS));
      pool.close();
    }
  }

  @Test
  public void aKeptConnectionTheBackendClosedIsReplacedForARetryableRequest() throws Exception {
    CountDownLatch first = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      first.countDown();
      return request.connection() > 1; // the first connection closes after answering, unannounced
    });
    assertEquals("completed", exchange(GET, true).await());
    // The selector sees the close while the connection is idle, and drops it; wait for that.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (loop.idleCount() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, loop.idleCount());

    assertEquals("completed", exchange(GET, true).await());
    assertEquals(2, backend.connections());
  }

  @Test
  public void aRequestSentIntoAConnectionThatClosesIsRetriedOnAFreshOneOnlyWhenRetryable() throws Exception {
    backend.respondWith((request, out) -> {
      String target = request.head().target();
      if (target.equals("/p") || target.equals("/a") && request.connection() == 1) {
        return false; // read the request, then close without answering
      }
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      return true;
    });
    assertEquals("completed", exchange("GET /first HTTP/1.1\r\nHost: b\r\n\r\n", true).await());

    Outcome retried = exchange(GET, true);
    assertEquals("completed", retried.await());
    assertEquals(2, backend.connections());

    // Connection 2 is kept now, and closes on the next request: not retryable, so no third connection.
    Outcome notRetried = exchange("POST /p HTTP/1.1\r\nHost: b\r\nContent-Length: 1\r\n\r\nx", false);
    assertEquals("handed off", notRetried.await());
    assertEquals(0, notRetried.readSoFar.remaining());
    assertEquals(2, backend.connections());
    notRetried.channel.close();
  }

  @Test
  public void anUnreachableBackendFailsTheExchangeWithTheBlockingClientsWords() throws Exception {
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    loop.close();
    loop = loop(Origin.parseBackend("127.0.0.1:" + port), Duration.ZERO, 8);

    Object ended = exchange(GET, true).await();

    assertTrue(ended instanceof BackendFailure);
    assertTrue(((BackendFailure) ended).getMessage(),
        ((BackendFailure) ended).getMessage().startsWith("backend 127.0.0.1:" + port + " is unreachable: "));
    assertEquals(0, loop.inFlight());
  }

  @Test
  public void aBackendThatDoesNotAnswerInTimeFailsTheExchange() throws Exception {
    backend.respondWith((request, out) -> {
      Thread.sleep(10_000);
      return false;
    });
    loop.close();
    loop = loop(Origin.parseBackend(backend.hostAndPort()), Duration.ofMillis(100), 8);

    Object ended = exchange(GET, true).await();

    assertTrue(String.valueOf(ended), ended instanceof BackendFailure);
    assertEquals("backend " + backend.hostAndPort() + " did not respond within 100ms (--request-forwarding-timeout)",
        ((BackendFailure) ended).getMessage());
  }

  @Test
  public void exchangesBeyondTheLimitAreDeclined() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      release.await(10, TimeUnit.SECONDS);
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      return true;
    });
    loop.close();
    loop = loop(Origin.parseBackend(backend.hostAndPort()), Duration.ZERO, 1);
    Outcome first = new Outcome();
    assertTrue(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, first));

    assertFalse(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, new Outcome()));

    release.countDown();
    assertEquals("completed", first.await());
    assertTrue(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, new Outcome()));
  }

  @Test
  public void closingTheLoopFailsTheExchangesStillRunning() throws Exception {
    backend.respondWith((request, out) -> {
      Thread.sleep(10_000);
      return false;
    });
    Outcome o = new Outcome();
    assertTrue(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, o));
    assertNotNull(backend.awaitRequest(Duration.ofSeconds(5)));

    loop.close();

    Object ended = o.await();
    assertTrue(String.valueOf(ended), ended instanceof BackendFailure);
    assertNotEquals(-1, ((BackendFailure) ended).getMessage().indexOf("the agent is stopping"));
    assertFalse(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, new Outcome()));
  }

  @Test
  public void aListenerThatThrowsDoesNotStopTheSelector() throws Exception {
    Outcome throwing = new Outcome() {
      @Override
      public void completed(SmallResponseReader.Result response, byte[] body) {
        super.completed(response, body);
        throw new IllegalStateException("a listener's bug");
      }
    };
    assertTrue(loop.exchange(GET.getBytes(StandardCharsets.ISO_8859_1), false, true, throwing));
    assertEquals("completed", throwing.await());

    assertEquals("completed", exchange(GET, true).await());
  }

  @Test
  public void aHeadRequestsResponseEndsWithItsHead() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    Outcome o = new Outcome();
    assertTrue(loop.exchange("HEAD /a HTTP/1.1\r\nHost: b\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), true, true,
        o));
    assertEquals("completed", o.await());
    assertArrayEquals(new byte[0], o.body);
  }
}
