package io.github.invertingproxy.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Slow and numerous clients against a real server, over raw sockets. */
public class SlowClientsTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;
  private final List<Socket> sockets = new ArrayList<>();

  @After
  public void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    if (app != null) {
      app.close();
    }
  }

  /** A server whose idle polls end within a second, so that the scripted agent's first poll does not hold the test. */
  private static StandaloneServer.Builder quickPolls() {
    return StandaloneServer.builder().settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(1)).build());
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", app.server.port());
    s.setSoTimeout(20_000);
    sockets.add(s);
    return s;
  }

  /** Sends a request for a path no record matches (every user's 404) and reads the answer's status line. */
  private static String askForNothing(Socket s) throws IOException {
    s.getOutputStream().write(("GET /nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestTokens.BOB
        + "\r\n\r\n").getBytes(ISO_8859_1));
    s.getOutputStream().flush();
    return readHead(s.getInputStream());
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed after " + head);
      }
      head.append((char) c);
    }
    String h = head.toString();
    int length = Integer.parseInt(h.replaceAll("(?is).*content-length: *(\\d+).*", "$1"));
    in.readNBytes(length);
    return h.substring(0, h.indexOf("\r\n"));
  }

  @Test(timeout = 60_000)
  public void aClientThatTricklesItsRequestHeadIsDisconnectedAfterTheReadHeaderTimeout() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), quickPolls().readHeaderTimeout(Duration.ofSeconds(1)));
    Socket slow = connect();
    OutputStream out = slow.getOutputStream();
    out.write("GET /trickle HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(ISO_8859_1));
    // One byte every 200 ms: never idle for long, but the head would take 20 s to finish.
    boolean cutOff = false;
    for (int i = 0; i < 100 && !cutOff; i++) {
      try {
        out.write('a');
        out.flush();
        Thread.sleep(200);
      } catch (IOException e) {
        cutOff = true;
      }
    }
    if (!cutOff) {
      fail("a head trickling in for 20 s was still being read");
    }
    slow.setSoTimeout(5_000);
    assertEquals("the server closed the connection without an answer", -1, readOrEnd(slow.getInputStream()));

    // A client that sends its head at once, and then waits between requests, is served as ever.
    Socket prompt = connect();
    assertTrue(askForNothing(prompt).startsWith("HTTP/1.1 404 "));
    Thread.sleep(2_500);
    assertTrue(askForNothing(prompt).startsWith("HTTP/1.1 404 "));
  }

  @Test(timeout = 60_000)
  public void aWebSocketOutlivesTheReadHeaderTimeout() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), quickPolls().readHeaderTimeout(Duration.ofSeconds(1)));
    CompletableFuture<String> ended = new CompletableFuture<>();
    BlockingQueue<String> pongs = new LinkedBlockingQueue<>();
    WebSocket channel = HttpClient.newHttpClient().newWebSocketBuilder()
        .header(ProtocolHeaders.BACKEND_ID, "alice-app").header("Authorization", "Bearer " + TestTokens.AGENT)
        .buildAsync(URI.create(app.server.url().replace("http:", "ws:") + "agent/channel"), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            pongs.add(StandardCharsets.UTF_8.decode(message).toString());
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            ended.complete(status + " " + reason);
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            ended.complete(error.toString());
          }
        }).get(10, TimeUnit.SECONDS);
    Thread.sleep(3_000); // three read header timeouts, with no head to read on this connection
    channel.sendPing(ByteBuffer.wrap("still there".getBytes(StandardCharsets.UTF_8))).get(5, TimeUnit.SECONDS);
    assertEquals("still there", pongs.poll(10, TimeUnit.SECONDS));
    assertFalse("the channel ended: " + ended.getNow(""), ended.isDone());
    channel.abort();
  }

  private static int readOrEnd(InputStream in) throws IOException {
    try {
      return in.read();
    } catch (IOException e) {
      return -1; // reset: closed as well
    }
  }

  @Test(timeout = 60_000)
  public void pastMaxConnectionsTheServerAcceptsNoMoreUntilOneCloses() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), quickPolls().maxConnections(4));
    // The scripted agent's connection may hold one place: fill the rest with clients that are served.
    List<Socket> served = new ArrayList<>();
    while (app.server.openConnections() < 4) {
      Socket s = connect();
      assertTrue(askForNothing(s).startsWith("HTTP/1.1 404 "));
      served.add(s);
    }
    Socket waiting = connect(); // completed by the kernel, but not accepted
    waiting.getOutputStream().write(("GET /nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestTokens.BOB
        + "\r\n\r\n").getBytes(ISO_8859_1));
    waiting.setSoTimeout(1_000);
    try {
      int c = waiting.getInputStream().read();
      fail("a connection past the cap was served: read " + c);
    } catch (SocketTimeoutException expected) {
      // not accepted
    }
    assertEquals("connections open", 4, app.server.openConnections());

    served.get(0).close();
    waiting.setSoTimeout(20_000);
    assertTrue(readHead(waiting.getInputStream()).startsWith("HTTP/1.1 404 "));
  }

  @Test(timeout = 60_000)
  public void threadsGrownForABurstAreGivenBackOnceIdle() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().maxThreads(200)
        .threadIdleTimeout(Duration.ofSeconds(1))
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(5)).pendingTimeout(Duration.ofSeconds(1)).build()));
    int idleThreads = app.server.threadCount();
    // Chunked bodies wait for their responses holding a thread each, until the 504.
    List<Socket> burst = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Socket s = connect();
      s.getOutputStream().write(("POST /chunked/" + i + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          + TestTokens.ALICE + "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n").getBytes(ISO_8859_1));
      burst.add(s);
    }
    java.util.Set<String> waiting = new java.util.HashSet<>();
    while (waiting.size() < burst.size()) {
      waiting.addAll(app.agent.pending());
    }
    int grown = app.server.threadCount();
    assertTrue("threads while the burst waits: " + grown, grown >= burst.size());
    for (Socket s : burst) {
      assertTrue(readHead(s.getInputStream()).startsWith("HTTP/1.1 504 "));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (app.server.threadCount() > idleThreads + 10 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertTrue("threads after the burst: " + app.server.threadCount() + " (before: " + idleThreads + ")",
        app.server.threadCount() <= idleThreads + 10);
  }
}
