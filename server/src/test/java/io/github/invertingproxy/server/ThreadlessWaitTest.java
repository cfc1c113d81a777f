package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Clients whose requests have no body, or a small one, wait for their responses without holding a
 * server thread.
 */
public class ThreadlessWaitTest {
  private static final int THREADS = 16;
  private static final int CLIENTS = 3 * THREADS;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().maxThreads(THREADS)
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(20)).pendingTimeout(Duration.ofSeconds(1)).build()));
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  /**
   * Polls until every client's request has reached the agent while none is answered yet, which
   * happens only when none of them holds a thread; returns their ids.
   */
  private Set<String> awaitAllWaiting() throws Exception {
    Set<String> ids = new LinkedHashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (ids.size() < CLIENTS && System.nanoTime() < deadline) {
      ids.addAll(app.agent.pending());
    }
    assertEquals("requests waiting at once", CLIENTS, ids.size());
    return ids;
  }

  @Test
  public void moreClientsThanTheServerHasThreadsWaitAtOnceAndAllGetTheirOwnResponses() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      clients.add(app.client(app.to("n/" + i)));
    }
    Set<String> ids = awaitAllWaiting();

    for (String id : ids) {
      String target = app.agent.take(id).body().split(" ")[1];
      String body = "for " + target;
      assertEquals(200, app.agent.respond(id, AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body)).statusCode());
    }
    for (int i = 0; i < CLIENTS; i++) {
      HttpResponse<String> response = clients.get(i).get(10, TimeUnit.SECONDS);
      assertEquals(200, response.statusCode());
      assertEquals("for /n/" + i, response.body());
    }
    assertTrue("exchanges forgotten", app.server.exchanges().size() == 0);
  }

  @Test
  public void clientsWithSmallBodiesWaitWithoutAThreadToo() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      clients.add(app.client(app.to("n/" + i).POST(HttpRequest.BodyPublishers.ofString("body " + i))));
    }
    Set<String> ids = awaitAllWaiting();

    for (String id : ids) {
      String request = app.agent.take(id).body();
      String n = request.split(" ")[1].substring("/n/".length());
      assertTrue(request, request.endsWith("\r\nContent-Length: " + ("body " + n).length() + "\r\n\r\nbody " + n));
      assertEquals(200, app.agent.respond(id, AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: " + n.length()
          + "\r\n\r\n" + n)).statusCode());
    }
    for (int i = 0; i < CLIENTS; i++) {
      assertEquals(String.valueOf(i), clients.get(i).get(10, TimeUnit.SECONDS).body());
    }
  }

  @Test
  public void aSmallBodyThatBreaksOffIsRefusedBeforeItReachesTheAgent() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", app.server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /short HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestTokens.ALICE
          + "\r\nContent-Length: 10\r\n\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      socket.shutdownOutput();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(answer, answer.startsWith("HTTP/1.1 400 "));
    }
    assertEquals(List.of(), app.agent.pending());
    assertEquals(0, app.server.exchanges().size());
  }

  @Test
  public void aClientStillWaitingWhenTheServerStopsIsAnswered503() throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(app.to("never"));
    String id = app.agent.pendingWithin(5).get(0);
    assertEquals(200, app.agent.take(id).statusCode());

    app.close();
    HttpResponse<String> response = client.get(10, TimeUnit.SECONDS);
    assertEquals(503, response.statusCode());
    assertEquals("Service unavailable: the proxy is shutting down\n", response.body());
  }

  @Test
  public void aWaitThatTimesOutIsAnsweredWithGatewayTimeoutWithoutAThread() throws Exception {
    app.close();
    app = AliceApp.start(tmp.newFolder().toPath(), StandaloneServer.builder().maxThreads(THREADS)
        .settings(ProxySettings.builder().responseTimeout(Duration.ofMillis(300)).pendingTimeout(Duration.ofSeconds(1)).build()));
    CompletableFuture<HttpResponse<String>> client = app.client(app.to("slow"));
    String id = app.agent.pendingWithin(5).get(0);
    assertEquals(200, app.agent.take(id).statusCode());

    HttpResponse<String> response = client.get(10, TimeUnit.SECONDS);
    assertEquals(504, response.statusCode());
    assertEquals("Gateway timeout: the agent of backend \"alice-app\" did not start a response within 300ms\n",
        response.body());
    assertEquals("no-store", response.headers().firstValue("Cache-Control").orElseThrow());
    assertEquals(404, app.agent.respond(id, AliceApp.wire("HTTP/1.1 204 No Content\r\n\r\n")).statusCode());
  }
}
