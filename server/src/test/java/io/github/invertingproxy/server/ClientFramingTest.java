package io.github.invertingproxy.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Client requests whose framing is broken or unsafe to forward, sent byte by byte to a real server. */
public class ClientFramingTest {
  private static final String ALICE = "Authorization: Bearer " + TestTokens.ALICE + "\r\n";

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().lease(Duration.ofMillis(500))
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(20)).pendingTimeout(Duration.ofSeconds(1)).build()));
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  /** Sends {@code request} on a fresh connection; the answer is read to the end on another thread. */
  private CompletableFuture<String> send(String request) throws Exception {
    Socket socket = new Socket("127.0.0.1", app.server.port());
    socket.setSoTimeout(15_000);
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(ISO_8859_1));
    out.flush();
    return CompletableFuture.supplyAsync(() -> {
      try (socket; InputStream in = socket.getInputStream()) {
        return new String(in.readAllBytes(), ISO_8859_1);
      } catch (Exception e) {
        throw new RuntimeException("the connection was neither answered nor closed: " + e, e);
      }
    });
  }

  @Test
  public void aBadChunkSizeInTheClientsBodyIs400() throws Exception {
    CompletableFuture<String> answer = send("POST /upload HTTP/1.1\r\nHost: x\r\n" + ALICE
        + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n");
    List<String> ids = app.agent.pendingWithin(3);
    if (!ids.isEmpty()) {
      HttpResponse<String> taken = app.agent.take(ids.get(0));
      if (taken.statusCode() == 200 && !answer.isDone()) {
        app.agent.respond(ids.get(0), AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
      }
    }
    String r = answer.get(20, TimeUnit.SECONDS);
    assertEquals(r, 400, RawHttp.status(r));
  }

  @Test
  public void transferEncodingOnAnHttp10RequestIs400AndTheConnectionCloses() throws Exception {
    CompletableFuture<String> answer = send("POST /upload HTTP/1.0\r\nHost: x\r\n" + ALICE
        + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    String r = answer.get(20, TimeUnit.SECONDS); // read to the end: the server closed the connection
    assertEquals(r, 400, RawHttp.status(r));
    assertEquals("only one answer: " + r, -1, r.indexOf("HTTP/1.1 ", 1));
    assertEquals("nothing was queued", 0, app.server.exchanges().size());
  }

  @Test
  public void connectionNamingHostOrFramingFieldsDoesNotRemoveThem() throws Exception {
    CompletableFuture<String> answer = send("POST /form HTTP/1.1\r\nHost: app.example\r\n" + ALICE
        + "Connection: Host, Content-Length, Transfer-Encoding, X-Hop, close\r\nX-Hop: dropped\r\n"
        + "Content-Length: 4\r\n\r\nbody");
    String id = app.agent.pendingWithin(5).get(0);
    String request = app.agent.take(id).body();
    app.agent.respond(id, AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    assertEquals(200, RawHttp.status(answer.get(20, TimeUnit.SECONDS)));
    assertTrue(request, request.contains("\r\nHost: app.example\r\n"));
    assertTrue(request, request.contains("\r\nContent-Length: 4\r\n"));
    assertTrue(request, request.endsWith("\r\n\r\nbody"));
    assertTrue(request, !request.contains("X-Hop"));
  }
}
