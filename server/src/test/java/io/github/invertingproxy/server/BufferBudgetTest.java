package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.BufferBudget;
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

/** Request bodies held in memory by clients waiting without a thread stay within one budget. */
public class BufferBudgetTest {
  private static final int BODY = 10_000;
  private static final int FITS = 4;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;
  private BufferBudget budget;

  @Before
  public void start() throws Exception {
    budget = new BufferBudget(FITS * BODY);
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().settings(ProxySettings.builder()
        .responseTimeout(Duration.ofSeconds(5)).pendingTimeout(Duration.ofSeconds(1)).bufferBudget(budget).build()));
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  private CompletableFuture<HttpResponse<String>> post(String path) {
    return app.client(app.to(path).POST(HttpRequest.BodyPublishers.ofByteArray(new byte[BODY])));
  }

  private Set<String> waiting(int count) throws Exception {
    Set<String> ids = new LinkedHashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (ids.size() < count && System.nanoTime() < deadline) {
      ids.addAll(app.agent.pending());
    }
    assertEquals("requests waiting", count, ids.size());
    return ids;
  }

  @Test
  public void requestsPastTheBudgetAreRefusedWith503AndRetryAfterWhileThoseWithinItWait() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> clients = new ArrayList<>();
    for (int i = 0; i < 3 * FITS; i++) {
      clients.add(post("flood/" + i));
    }
    Set<String> ids = waiting(FITS);
    int refused = 0;
    for (CompletableFuture<HttpResponse<String>> c : clients) {
      HttpResponse<String> r = c.get(20, TimeUnit.SECONDS);
      if (r.statusCode() == 503) {
        refused++;
        assertEquals("1", r.headers().firstValue("Retry-After").orElseThrow());
        assertEquals("Service unavailable: too many request bodies are waiting in memory; retry later\n", r.body());
      } else {
        assertEquals("a request within the budget waits for its response", 504, r.statusCode());
      }
    }
    assertEquals(2 * FITS, refused);
    assertEquals(FITS, ids.size());
    assertEquals("most bytes held at once", FITS * BODY, budget.peak());
    assertEquals("bytes held once every wait timed out", 0, budget.used());
  }

  @Test
  public void everyWayAnExchangeEndsGivesItsBytesBack() throws Exception {
    CompletableFuture<HttpResponse<String>> answered = post("answered");
    CompletableFuture<HttpResponse<String>> badResponse = post("bad-response");
    CompletableFuture<HttpResponse<String>> timedOut = post("timed-out");
    Set<String> ids = waiting(3);
    assertEquals(3 * BODY, budget.used());
    for (String id : ids) {
      String target = app.agent.take(id).body().split(" ")[1];
      if (target.equals("/answered")) {
        assertEquals(200, app.agent.respond(id, AliceApp.wire("HTTP/1.1 204 No Content\r\n\r\n")).statusCode());
      } else if (target.equals("/bad-response")) {
        assertEquals(400, app.agent.respond(id, AliceApp.wire("not HTTP at all\r\n\r\n")).statusCode());
      }
    }
    assertEquals(204, answered.get(20, TimeUnit.SECONDS).statusCode());
    assertEquals(502, badResponse.get(20, TimeUnit.SECONDS).statusCode());
    assertEquals(504, timedOut.get(20, TimeUnit.SECONDS).statusCode());
    assertEquals(0, budget.used());

    // The budget is whole again: as many bodies as fit wait at once once more.
    for (int i = 0; i < FITS; i++) {
      post("again/" + i);
    }
    waiting(FITS);
    assertEquals(FITS * BODY, budget.used());
  }
}
