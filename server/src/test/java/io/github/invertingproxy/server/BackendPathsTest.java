package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
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

/**
 * No path of the main port belongs to the server: a backend's own {@code /api/}, {@code /agent/} and
 * {@code /cron/} paths reach it through its agent, while agent calls (which carry the backend header)
 * and the admin API (on its own port) still work.
 */
public class BackendPathsTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder()
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(1)).build()));
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  /** Sends alice's request, answers it as her agent; returns the request head the agent was given. */
  private String forwarded(HttpRequest.Builder request) throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(request);
    List<String> ids = app.agent.pendingWithin(10);
    HttpResponse<String> taken = app.agent.take(ids.get(0));
    assertEquals(taken.body(), 200, taken.statusCode());
    assertEquals(200, app.agent.respond(ids.get(0), AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nbackend"))
        .statusCode());
    HttpResponse<String> answer = client.get(10, TimeUnit.SECONDS);
    assertEquals(200, answer.statusCode());
    assertEquals("backend", answer.body());
    return taken.body();
  }

  private static String requestLine(String wire) {
    return wire.substring(0, wire.indexOf("\r\n"));
  }

  @Test
  public void aBackendsApiContentsIsForwardedToTheBackend() throws Exception {
    assertEquals("GET /api/contents?type=directory HTTP/1.1",
        requestLine(forwarded(app.to("api/contents?type=directory").GET())));
  }

  @Test
  public void aPostToTheBackendsApiKernelsIsForwardedWithItsBody() throws Exception {
    String wire = forwarded(app.to("api/kernels").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"python3\"}")));
    assertEquals("POST /api/kernels HTTP/1.1", requestLine(wire));
    assertTrue(wire, wire.endsWith("{\"name\":\"python3\"}"));
  }

  @Test
  public void apiBackendsOnTheMainPortIsTheBackendsOwnPath() throws Exception {
    assertEquals("GET /api/backends HTTP/1.1", requestLine(forwarded(app.to("api/backends").GET())));
  }

  @Test
  public void aBackendsAgentPathIsForwardedToTheBackend() throws Exception {
    assertEquals("GET /agent/x HTTP/1.1", requestLine(forwarded(app.to("agent/x").GET())));
  }

  @Test
  public void agentPendingWithoutTheBackendHeaderIsAClientRequest() throws Exception {
    assertEquals("GET /agent/pending HTTP/1.1", requestLine(forwarded(app.to("agent/pending").GET())));
  }

  @Test
  public void aBackendsCronPathIsForwardedToTheBackend() throws Exception {
    assertEquals("DELETE /cron/x HTTP/1.1", requestLine(forwarded(app.to("cron/x").DELETE())));
  }

  @Test
  public void anAgentCallWithTheBackendHeaderStillNeedsTheAgentsCredentials() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> anonymous = http.send(app.to("agent/pending").header(ProtocolHeaders.BACKEND_ID, "alice-app")
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, anonymous.statusCode());
    HttpResponse<String> asAlice = http.send(app.to("agent/pending").header(ProtocolHeaders.BACKEND_ID, "alice-app")
        .header("Authorization", "Bearer " + TestTokens.ALICE).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, asAlice.statusCode());
    assertEquals(200, app.agent.pendingRaw().statusCode());
  }

  @Test
  public void theAdminApiAnswersOnTheAdminPort() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(app.server.adminUrl() + "api/backends/alice-app")).header("Authorization", "Bearer " + TestTokens.ADMIN)
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(r.body(), 200, r.statusCode());
    assertTrue(r.body(), r.body().contains("\"id\":\"alice-app\""));
  }

  @Test
  public void theAdminPortServesNothingButTheAdminApiAndItsPage() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    // The root redirects to the page at /admin/ (AdminPageTest).
    for (String path : List.of("hello", "admin/hello", "agent/pending", "api/contents")) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(app.server.adminUrl() + path))
          .header("Authorization", "Bearer " + TestTokens.AGENT).header(ProtocolHeaders.BACKEND_ID, "alice-app")
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(path, 404, r.statusCode());
    }
  }
}
