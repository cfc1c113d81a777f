package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The proxy's side of PROTOCOL.md, driven by a hand-scripted agent so every byte can be checked. */
public class ProxyExchangeTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;
  private StandaloneServer server;
  private ScriptedAgent agent;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().lease(Duration.ofMillis(500))
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(2)).pendingTimeout(Duration.ofSeconds(1)).build()));
    server = app.server;
    agent = app.agent;
    server.registry().add(BackendRecord.builder().id("other").endUser("bob@example.com")
        .backendUser("other@example.com").pathPrefixes("/").build());
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  private CompletableFuture<HttpResponse<String>> client(HttpRequest.Builder request) {
    return app.client(request);
  }

  private HttpRequest.Builder to(String path) {
    return app.to(path);
  }

  private static byte[] wire(String s) {
    return AliceApp.wire(s);
  }

  @Test
  public void clientCannotSpeakForTheAgentOrForgeTheUser() throws Exception {
    CompletableFuture<HttpResponse<String>> c = client(to("x").header("X-Inverting-Proxy-User-ID", "mallory@evil")
        .header("X-Inverting-Proxy-Backend-ID", "other").header("x-inverting-proxy-request-id", "abc"));
    String id = agent.pendingWithin(5).get(0);
    HttpResponse<String> taken = agent.take(id);
    assertEquals(200, taken.statusCode());
    assertEquals("alice@example.com", taken.headers().firstValue(ProtocolHeaders.USER_ID).orElseThrow());
    assertFalse(taken.body(), taken.body().toLowerCase().contains("x-inverting-proxy"));
    agent.respond(id, wire("HTTP/1.1 204 No Content\r\n\r\n"));
    assertEquals(204, c.get(10, TimeUnit.SECONDS).statusCode());
  }

  @Test
  public void requestCarriesIdUserAndStartTime() throws Exception {
    Instant before = Instant.now();
    CompletableFuture<HttpResponse<String>> c = client(to("path?q=%E2%9C%93"));
    String id = agent.pendingWithin(5).get(0);
    assertTrue("id is 64 hex characters: " + id, id.matches("[0-9a-f]{64}"));
    HttpResponse<String> taken = agent.take(id);
    assertEquals(id, taken.headers().firstValue(ProtocolHeaders.REQUEST_ID).orElseThrow());
    Instant start = RequestStartTime.parse(taken.headers().firstValue(ProtocolHeaders.REQUEST_START_TIME).orElseThrow());
    assertFalse(start.isBefore(before.minusSeconds(1)));
    assertTrue(taken.body(), taken.body().startsWith("GET /path?q=%E2%9C%93 HTTP/1.1\r\n"));
    agent.respond(id, wire("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    assertEquals("ok", c.get(10, TimeUnit.SECONDS).body());
  }

  @Test
  public void agentOfAnotherAccountIsUnauthorized() throws Exception {
    ScriptedAgent impostor = new ScriptedAgent(server.url(), "alice-app", TestTokens.OTHER_AGENT);
    assertEquals(401, impostor.pendingRaw().statusCode());
    ScriptedAgent anonymous = new ScriptedAgent(server.url(), "alice-app", null);
    assertEquals(401, anonymous.pendingRaw().statusCode());
    ScriptedAgent unknownBackend = new ScriptedAgent(server.url(), "no-such-backend", TestTokens.AGENT);
    assertEquals(401, unknownBackend.pendingRaw().statusCode());
  }

  @Test
  public void agentCannotTakeAnotherBackendsRequest() throws Exception {
    server.registry().add(BackendRecord.builder().id("second").endUser("carol@example.com")
        .backendUser("agent@example.com").pathPrefixes("/").build());
    CompletableFuture<HttpResponse<String>> c = client(to("secret"));
    String id = agent.pendingWithin(5).get(0);
    ScriptedAgent sameAccountOtherBackend = new ScriptedAgent(server.url(), "second", TestTokens.AGENT);
    assertEquals(404, sameAccountOtherBackend.take(id).statusCode());
    assertEquals(404, sameAccountOtherBackend.respond(id, wire("HTTP/1.1 200 OK\r\n\r\n")).statusCode());
    assertEquals(200, agent.take(id).statusCode());
    agent.respond(id, wire("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    assertEquals(200, c.get(10, TimeUnit.SECONDS).statusCode());
  }

  @Test
  public void requestIsTakenOnlyOnce() throws Exception {
    client(to("once"));
    String id = agent.pendingWithin(5).get(0);
    assertEquals(200, agent.take(id).statusCode());
    assertEquals(404, agent.take(id).statusCode());
  }

  @Test
  public void unparseableAgentResponseIs502ToTheClientAnd400ToTheAgent() throws Exception {
    CompletableFuture<HttpResponse<String>> c = client(to("bad"));
    String id = agent.pendingWithin(5).get(0);
    agent.take(id);
    assertEquals(400, agent.respond(id, wire("this is not HTTP\r\n\r\n")).statusCode());
    HttpResponse<String> r = c.get(10, TimeUnit.SECONDS);
    assertEquals(502, r.statusCode());
    assertTrue(r.body(), r.body().startsWith("Bad gateway: the agent's response is not a valid HTTP response"));
  }

  @Test
  public void agentBreakingOffMidBodyFailsTheClientInsteadOfATruncated200() throws Exception {
    assertBreakingOffFailsTheClient("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(40_000));
  }

  @Test
  public void agentBreakingOffAChunkedBodyFailsTheClientInsteadOfEndingItCleanly() throws Exception {
    // Without a length, only the missing last chunk tells the client that the body is incomplete.
    assertBreakingOffFailsTheClient("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9c40\r\n"
        + "x".repeat(40_000) + "\r\n");
  }

  /** The agent posts {@code partialResponse}, then its call breaks off. */
  private void assertBreakingOffFailsTheClient(String partialResponse) throws Exception {
    CompletableFuture<HttpResponse<String>> c = client(to("cut"));
    String id = agent.pendingWithin(5).get(0);
    agent.take(id);
    PipedOutputStream agentSide = new PipedOutputStream();
    PipedInputStream body = new PipedInputStream(agentSide, 1 << 16);
    CompletableFuture<HttpResponse<String>> post = CompletableFuture.supplyAsync(() -> {
      try {
        return agent.respond(id, body);
      } catch (IOException | InterruptedException e) {
        throw new RuntimeException(e);
      }
    });
    agentSide.write(wire(partialResponse));
    agentSide.flush();
    Thread.sleep(300);
    agentSide.close();
    ExecutionException e = assertThrows(ExecutionException.class, () -> c.get(10, TimeUnit.SECONDS));
    assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof IOException);
    assertEquals(400, post.get(10, TimeUnit.SECONDS).statusCode());
  }

  @Test
  public void responseThatNeverStartsIs504() throws Exception {
    CompletableFuture<HttpResponse<String>> c = client(to("slow"));
    String id = agent.pendingWithin(5).get(0);
    agent.take(id);
    HttpResponse<String> r = c.get(10, TimeUnit.SECONDS);
    assertEquals(504, r.statusCode());
    assertTrue(r.body(), r.body().contains("did not start a response within 2s"));
    assertEquals("a late response finds no client", 404,
        agent.respond(id, wire("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")).statusCode());
    assertEquals(0, server.exchanges().size());
  }

  @Test
  public void responseToUnknownIdIs404() throws Exception {
    assertEquals(404, agent.respond("f".repeat(64), wire("HTTP/1.1 200 OK\r\n\r\n")).statusCode());
    assertEquals(404, agent.take("f".repeat(64)).statusCode());
  }

  @Test
  public void emptyWaitAnswersAnEmptyJsonArray() throws Exception {
    HttpResponse<String> r = agent.pendingRaw();
    assertEquals(200, r.statusCode());
    assertEquals("[]", r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
  }

  @Test
  public void listedButUntakenRequestIsListedAgainAfterItsLease() throws Exception {
    client(to("again"));
    List<String> first = agent.pendingWithin(5);
    List<String> second = agent.pendingWithin(5);
    assertEquals(first, second);
  }
}
