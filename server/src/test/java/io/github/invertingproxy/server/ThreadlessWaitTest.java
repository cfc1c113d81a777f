package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

/** Clients whose requests have no body wait for their responses without holding a server thread. */
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

  @Test
  public void moreClientsThanTheServerHasThreadsWaitAtOnceAndAllGetTheirOwnResponses() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      clients.add(app.client(app.to("n/" + i)));
    }
    // Every request reaches the agent while none is answered: none of them holds a thread.
    Set<String> ids = new LinkedHashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (ids.size() < CLIENTS && System.nanoTime() < deadline) {
      ids.addAll(app.agent.pending());
    }
    assertEquals("requests waiting at once", CLIENTS, ids.size());

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
