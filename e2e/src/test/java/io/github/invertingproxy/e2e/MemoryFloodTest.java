package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Far more waiting 64 KiB request bodies than the server's heap holds, for a backend whose agent
 * polls but never answers: the server, a separate JVM with a 96 MiB heap, refuses what exceeds its
 * buffer budget and keeps serving agents and clients, during the flood and after it.
 */
public class MemoryFloodTest {
  private static final String HEAP = "96m";
  private static final int BODY = 64 * 1024;
  /** 125 MiB of bodies: more than the whole heap. */
  private static final int CLIENTS = 2000;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final List<SocketChannel> flood = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger unsent = new AtomicInteger();
  private Path log;
  private String url;
  private int port;

  @Before
  public void start() throws Exception {
    log = tmp.getRoot().toPath().resolve("server.log");
    url = Processes.startServer(HEAP, log, "--response-timeout", "50s", "--pending-timeout", "2s");
    port = URI.create(url).getPort();
    int status = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        Processes.SERVER_JAR.toString(), "backends", "add", "--api", Processes.adminUrl(log), "--id", "mute", "--end-user", "allUsers",
        "--backend-user", "agent@example.com", "--path-prefixes", "/flood").inheritIO().start().waitFor();
    assertEquals("backends add exit status", 0, status);
    assertEquals(200, poll().statusCode()); // the backend is live from now on
  }

  @After
  public void stop() throws Exception {
    synchronized (flood) {
      for (SocketChannel s : flood) {
        s.close();
      }
    }
    Processes.killAll();
  }

  /** The agent's long poll; its requests are never taken. */
  private HttpResponse<String> poll() throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(url + "agent/pending")).timeout(Duration.ofSeconds(45))
        .header("X-Inverting-Proxy-Backend-ID", "mute").GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The server answers an agent's poll and routes a client's request (no record for that path: 404). */
  private void assertServing(String when) throws Exception {
    assertTrue(when + ": the server process runs; its log: " + Files.readString(log), Processes.allAlive());
    HttpResponse<String> poll = poll();
    assertEquals(when + ": agent/pending", 200, poll.statusCode());
    assertTrue(when + ": agent/pending answers a list: " + poll.body(), poll.body().startsWith("["));
    HttpResponse<String> elsewhere = http.send(HttpRequest.newBuilder(URI.create(url + "elsewhere"))
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(when + ": a request for a path without a record", 404, elsewhere.statusCode());
  }

  private void send(int i) {
    try {
      SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      flood.add(c);
      c.write(ByteBuffer.wrap(("POST /flood/" + i + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + BODY + "\r\n\r\n")
          .getBytes(ISO_8859_1)));
      ByteBuffer body = ByteBuffer.allocate(BODY);
      while (body.hasRemaining()) {
        c.write(body);
      }
    } catch (IOException e) {
      unsent.incrementAndGet(); // refused before the whole body was sent: the server defending itself
    }
  }

  /**
   * Waits until the server has dealt with every request of the flood: each is either waiting (the
   * agent's polls list it) or answered (503 past the budget) or cut off; returns the ids waiting.
   */
  private Set<String> awaitFloodAbsorbed() throws Exception {
    Set<String> waiting = new HashSet<>();
    int ended = unsent.get();
    try (Selector selector = Selector.open()) {
      synchronized (flood) {
        for (SocketChannel c : flood) {
          c.configureBlocking(false);
          c.register(selector, SelectionKey.OP_READ);
        }
      }
      ByteBuffer sink = ByteBuffer.allocate(4096);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (waiting.size() + ended < CLIENTS && System.nanoTime() < deadline) {
        selector.selectNow();
        for (SelectionKey key : selector.selectedKeys()) {
          sink.clear();
          try {
            ((SocketChannel) key.channel()).read(sink);
          } catch (IOException e) {
            // reset: ended as well
          }
          key.cancel();
          ended++;
        }
        selector.selectedKeys().clear();
        String ids = poll().body();
        Matcher id = Pattern.compile("\"([^\"]+)\"").matcher(ids);
        while (id.find()) {
          waiting.add(id.group(1));
        }
      }
      assertEquals("requests of the flood waiting or answered", CLIENTS, waiting.size() + ended);
    }
    return waiting;
  }

  @Test(timeout = 120_000)
  public void aFloodOfWaitingBodiesLargerThanTheHeapLeavesTheServerServing() throws Exception {
    ExecutorService senders = Executors.newFixedThreadPool(32);
    try {
      for (int i = 0; i < CLIENTS; i++) {
        int n = i;
        senders.execute(() -> send(n));
        if (i == CLIENTS / 2) {
          assertServing("during the flood");
        }
      }
    } finally {
      senders.shutdown();
      assertTrue("flood sent", senders.awaitTermination(60, TimeUnit.SECONDS));
    }
    Set<String> waiting = awaitFloodAbsorbed();
    assertServing("after the flood");

    String serverLog = Files.readString(log);
    Matcher full = Pattern.compile("buffer budget full: (\\d+) of (\\d+) bytes held").matcher(serverLog);
    assertTrue("the flood reached the budget: " + serverLog, full.find());
    long held = Long.parseLong(full.group(1));
    long budget = Long.parseLong(full.group(2));
    assertTrue("held " + held + " of a budget of " + budget, held <= budget);
    assertTrue("budget " + budget + " is a quarter of a 96 MiB heap at most", budget <= (96L << 20) / 4);
    assertTrue(waiting.size() + " bodies waiting within a budget of " + budget, (long) waiting.size() * BODY <= budget);
  }
}
