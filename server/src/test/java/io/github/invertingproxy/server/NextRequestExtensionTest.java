package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The next-request extension (docs/protocol.md): the answer to agent/response carries the next waiting request. */
public class NextRequestExtensionTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;
  private StandaloneServer server;
  private ScriptedAgent agent;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder()
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(5)).pendingTimeout(Duration.ofSeconds(1)).build()));
    server = app.server;
    agent = app.agent;
    server.registry().add(BackendRecord.builder().id("other").endUser("alice@example.com")
        .backendUser("agent@example.com").pathPrefixes("/other/").build());
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  /** Waits until the server holds {@code count} exchanges, so that a request is surely queued. */
  private void awaitExchanges(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (server.exchanges().size() < count && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(count, server.exchanges().size());
  }

  /** A first request, taken the usual way, whose response the tests then post. */
  private String takeFirst(CompletableFuture<HttpResponse<String>> first) throws Exception {
    String id = agent.pendingWithin(5).get(0);
    assertEquals(200, agent.take(id).statusCode());
    return id;
  }

  @Test
  public void theAnswerToAResponseCarriesTheNextWaitingRequestWithItsBody() throws Exception {
    CompletableFuture<HttpResponse<String>> first = app.client(app.to("first"));
    String firstId = takeFirst(first);
    CompletableFuture<HttpResponse<String>> second = app.client(app.to("second?x=1")
        .POST(HttpRequest.BodyPublishers.ofString("hello body")));
    awaitExchanges(2);

    HttpResponse<String> answer = agent.respondTakingNext(firstId, AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"));
    assertEquals(200, answer.statusCode());
    assertEquals("first", first.get(10, TimeUnit.SECONDS).body());
    assertEquals(firstId, answer.headers().firstValue(ProtocolHeaders.REQUEST_ID).orElseThrow());
    String nextId = answer.headers().firstValue(AgentFeatures.NEXT_REQUEST_ID).orElseThrow();
    assertTrue("id is 64 hex characters: " + nextId, nextId.matches("[0-9a-f]{64}"));
    assertEquals("alice@example.com", answer.headers().firstValue(ProtocolHeaders.USER_ID).orElseThrow());
    RequestStartTime.parse(answer.headers().firstValue(ProtocolHeaders.REQUEST_START_TIME).orElseThrow());
    assertTrue(answer.body(), answer.body().startsWith("POST /second?x=1 HTTP/1.1\r\n"));
    assertTrue(answer.body(), answer.body().endsWith("\r\n\r\nhello body"));

    // Handed over means taken: it is neither listed nor takeable again, and its response goes through.
    assertEquals(404, agent.take(nextId).statusCode());
    assertEquals("[]", agent.pendingRaw().body());
    assertEquals(200, agent.respond(nextId, AliceApp.wire("HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nsecond")).statusCode());
    HttpResponse<String> secondAnswer = second.get(10, TimeUnit.SECONDS);
    assertEquals(201, secondAnswer.statusCode());
    assertEquals("second", secondAnswer.body());
  }

  @Test
  public void withoutTheAnnouncementTheAnswerCarriesNoRequest() throws Exception {
    CompletableFuture<HttpResponse<String>> first = app.client(app.to("first"));
    String firstId = takeFirst(first);
    app.client(app.to("second"));
    awaitExchanges(2);

    HttpResponse<String> answer = agent.respond(firstId, AliceApp.wire("HTTP/1.1 204 No Content\r\n\r\n"));
    assertEquals(200, answer.statusCode());
    assertEquals("ok\n", answer.body());
    assertFalse(answer.headers().firstValue(AgentFeatures.NEXT_REQUEST_ID).isPresent());
    assertEquals(1, agent.pendingWithin(5).size());
  }

  @Test
  public void aRequestAlreadyListedToAPollIsNotHandedOver() throws Exception {
    CompletableFuture<HttpResponse<String>> first = app.client(app.to("first"));
    String firstId = takeFirst(first);
    app.client(app.to("second"));
    String listed = agent.pendingWithin(5).get(0);

    HttpResponse<String> answer = agent.respondTakingNext(firstId, AliceApp.wire("HTTP/1.1 204 No Content\r\n\r\n"));
    assertEquals("ok\n", answer.body());
    assertFalse(answer.headers().firstValue(AgentFeatures.NEXT_REQUEST_ID).isPresent());
    assertEquals(200, agent.take(listed).statusCode());
  }

  @Test
  public void anotherBackendsWaitingRequestIsNeverHandedOver() throws Exception {
    ScriptedAgent otherAgent = new ScriptedAgent(server.url(), "other", TestTokens.AGENT);
    assertEquals("[]", otherAgent.pendingRaw().body()); // "other" is live from now on
    CompletableFuture<HttpResponse<String>> first = app.client(app.to("first"));
    String firstId = takeFirst(first);
    app.client(app.to("other/secret"));
    awaitExchanges(2);

    HttpResponse<String> answer = agent.respondTakingNext(firstId, AliceApp.wire("HTTP/1.1 204 No Content\r\n\r\n"));
    assertEquals("ok\n", answer.body());
    assertFalse(answer.headers().firstValue(AgentFeatures.NEXT_REQUEST_ID).isPresent());
    String id = otherAgent.pendingWithin(5).get(0);
    assertTrue(otherAgent.take(id).body().startsWith("GET /other/secret HTTP/1.1\r\n"));
  }

  @Test
  public void aFailedRelayHandsNothingOver() throws Exception {
    CompletableFuture<HttpResponse<String>> first = app.client(app.to("first"));
    String firstId = takeFirst(first);
    app.client(app.to("second"));
    awaitExchanges(2);

    HttpResponse<String> answer = agent.respondTakingNext(firstId, AliceApp.wire("not a response\r\n\r\n"));
    assertEquals(400, answer.statusCode());
    assertFalse(answer.headers().firstValue(AgentFeatures.NEXT_REQUEST_ID).isPresent());
    assertEquals(502, first.get(10, TimeUnit.SECONDS).statusCode());
    assertEquals(1, agent.pendingWithin(5).size());
  }
}
