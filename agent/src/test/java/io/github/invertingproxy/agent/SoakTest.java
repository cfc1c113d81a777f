package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.PendingRequestIds;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Bounded memory: 20,000 requests through the agent, with sessions and HTML injection on, leave the
 * heap after GC where it was after a warm-up. The peers here keep nothing per request, so what could
 * grow is the agent's.
 */
public class SoakTest {
  private static final int WARM_UP = 2_000;
  private static final int REQUESTS = 20_000;
  private static final int IN_FLIGHT = 32;
  /** Retaining even 400 bytes per request would exceed this. */
  private static final long MARGIN_BYTES = 8L * 1024 * 1024;

  private HttpServer proxyServer;
  private HttpServer backendServer;
  private ExecutorService threads;
  private ForwardingAgent agent;
  private Level agentLogLevel;

  private final LinkedBlockingQueue<String> toList = new LinkedBlockingQueue<>();
  private final Map<String, byte[]> queued = new ConcurrentHashMap<>();
  private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
  private final AtomicInteger completed = new AtomicInteger();
  private final AtomicInteger wrong = new AtomicInteger();

  @Before
  public void startPeers() throws IOException {
    // One INFO line per request would fill the test's output; the soak is about memory.
    Logger agentLog = Logger.getLogger("io.github.invertingproxy.agent");
    agentLogLevel = agentLog.getLevel();
    agentLog.setLevel(Level.WARNING);
    threads = Executors.newFixedThreadPool(48, r -> {
      Thread t = new Thread(r, "soak-peer");
      t.setDaemon(true);
      return t;
    });
    proxyServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
    proxyServer.setExecutor(threads);
    proxyServer.createContext("/agent/", this::proxy);
    proxyServer.start();
    backendServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
    backendServer.setExecutor(threads);
    backendServer.createContext("/", exchange -> {
      try (exchange) {
        exchange.getRequestBody().readAllBytes();
        byte[] page = ("<html><head><title>" + exchange.getRequestURI().getPath() + "</title></head><body>ok</body>"
            + "</html>").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
        exchange.getResponseHeaders().add("Set-Cookie", "visit=" + exchange.getRequestURI().getPath() + "; Path=/");
        exchange.sendResponseHeaders(200, page.length);
        exchange.getResponseBody().write(page);
      }
    });
    backendServer.start();
    agent = startAgent("http://127.0.0.1:" + proxyServer.getAddress().getPort() + "/");
  }

  /** An agent against {@code proxyUrl} with sessions and page injection on. */
  private ForwardingAgent startAgent(String proxyUrl) {
    ForwardingAgent started = ForwardingAgent.builder()
        .proxyUrl(proxyUrl)
        .backendId("soak")
        .target("127.0.0.1:" + backendServer.getAddress().getPort())
        .sessionCookies("sid", Duration.ofHours(1), 1000)
        .injectHtml(HtmlSnippet.of("<script>/* injected */</script>"))
        .shutdownGracePeriod(Duration.ofSeconds(1))
        .build();
    started.start();
    return started;
  }

  @After
  public void stopAll() {
    agent.close();
    proxyServer.stop(0);
    backendServer.stop(0);
    threads.shutdownNow();
    Logger.getLogger("io.github.invertingproxy.agent").setLevel(agentLogLevel);
  }

  private void proxy(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      switch (path) {
        case "/agent/pending" -> {
          List<String> ids = new ArrayList<>();
          String first = toList.poll(50, TimeUnit.MILLISECONDS);
          if (first != null) {
            ids.add(first);
            toList.drainTo(ids, 63);
          }
          send(exchange, 200, PendingRequestIds.toJson(ids).getBytes(StandardCharsets.UTF_8));
        }
        case "/agent/request" -> {
          String id = exchange.getRequestHeaders().getFirst(ProtocolHeaders.REQUEST_ID);
          byte[] request = queued.get(id);
          if (request == null) {
            send(exchange, 404, new byte[0]);
            return;
          }
          exchange.getResponseHeaders().add(ProtocolHeaders.USER_ID, "user@example.com");
          exchange.getResponseHeaders().add(ProtocolHeaders.REQUEST_START_TIME, RequestStartTime.format(Instant.now()));
          send(exchange, 200, request);
        }
        case "/agent/response" -> {
          String id = exchange.getRequestHeaders().getFirst(ProtocolHeaders.REQUEST_ID);
          String response = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.ISO_8859_1);
          check(response);
          send(exchange, 200, new byte[0]);
          if (queued.remove(id) != null) {
            completed.incrementAndGet();
            inFlight.release();
          }
        }
        default -> send(exchange, 404, new byte[0]);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Counts a response that lacks the page, its injected snippet or its session cookie. */
  private void check(String response) {
    if (!response.startsWith("HTTP/1.1 200 OK") || !response.contains("<head><script>/* injected */</script>")
        || !response.contains("Set-Cookie: sid=")) {
      wrong.incrementAndGet();
    }
  }

  private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Sends {@code count} requests, at most {@value #IN_FLIGHT} at a time, and waits for all responses. */
  private void drive(int from, int count) throws InterruptedException {
    for (int i = from; i < from + count; i++) {
      assertTrue("the agent stalled at " + completed.get(), inFlight.tryAcquire(30, TimeUnit.SECONDS));
      String id = String.format("%064x", i);
      queued.put(id, ("GET /page/" + i + " HTTP/1.1\r\nHost: app.example.com\r\nAccept: text/html\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      toList.add(id);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (completed.get() < from + count) {
      assertTrue("only " + completed.get() + " of " + (from + count) + " completed", System.nanoTime() < deadline);
      Thread.sleep(10);
    }
  }

  /** The heap in use after full collections: the least of a few readings, as a collection may lag. */
  private static long heapAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
      least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
    }
    return least;
  }

  @Test
  public void twentyThousandRequestsLeaveTheHeapWhereItWas() throws Exception {
    drive(0, WARM_UP);
    long before = heapAfterGc();

    long started = System.nanoTime();
    drive(WARM_UP, REQUESTS);
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    long after = heapAfterGc();

    System.out.printf("soak: %d requests in %d s; heap after GC %.1f MB before, %.1f MB after%n", REQUESTS, seconds,
        before / 1048576.0, after / 1048576.0);
    assertEquals(0, wrong.get());
    assertTrue("heap grew from " + before + " to " + after + " bytes", after - before < MARGIN_BYTES);
  }

  @Test
  public void twentyThousandRequestsOverTheChannelLeaveTheHeapWhereItWas() throws Exception {
    // The same load through the channel, where the backend selector carries every exchange.
    agent.close();
    try (ChannelProxy channel = new ChannelProxy()) {
      agent = startAgent(channel.url());
      channel.awaitOpen(Duration.ofSeconds(10));
      driveOverChannel(channel, 0, WARM_UP);
      long before = heapAfterGc();

      driveOverChannel(channel, WARM_UP, REQUESTS);
      long after = heapAfterGc();

      System.out.printf("channel soak: heap after GC %.1f MB before, %.1f MB after%n", before / 1048576.0,
          after / 1048576.0);
      assertEquals(0, wrong.get());
      assertTrue("heap grew from " + before + " to " + after + " bytes", after - before < MARGIN_BYTES);
    }
  }

  /** Sends {@code count} requests over the channel, {@value #IN_FLIGHT} at a time, each answered in a frame. */
  private void driveOverChannel(ChannelProxy channel, int from, int count) throws Exception {
    int sent = 0;
    int answered = 0;
    while (answered < count) {
      while (sent < count && sent - answered < IN_FLIGHT) {
        int i = from + sent++;
        channel.send(new ChannelFrame.Request(String.format("%064x", i), "user@example.com",
            RequestStartTime.format(Instant.now()), ("GET /page/" + i + " HTTP/1.1\r\nHost: app.example.com\r\n"
                + "Accept: text/html\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1)));
      }
      ChannelFrame frame = channel.pollFrame(Duration.ofSeconds(30));
      assertTrue("the agent stalled after " + (from + answered) + " answers", frame instanceof ChannelFrame.Response);
      String response = new String(frame.message(), StandardCharsets.ISO_8859_1);
      check(response);
      answered++;
    }
  }
}
