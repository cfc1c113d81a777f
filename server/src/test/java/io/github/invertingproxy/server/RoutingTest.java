package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import java.net.URI;
import java.net.http.HttpClient;
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

public class RoutingTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0).tokensFile(TestTokens.write(tmp.getRoot().toPath()))
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(1)).build()).build().start();
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  private void add(String id, String endUser, String... prefixes) {
    server.registry().add(BackendRecord.builder().id(id).endUser(endUser).backendUser("agent@example.com")
        .pathPrefixes(prefixes).build());
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Which backend's queue the request lands in: answers it as that backend's agent. */
  private String servedBy(String path, String token, String... candidates) throws Exception {
    CompletableFuture<HttpResponse<String>> c = http.sendAsync(HttpRequest.newBuilder(URI.create(server.url() + path))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    for (int round = 0; round < 10; round++) {
      for (String backend : candidates) {
        ScriptedAgent agent = new ScriptedAgent(server.url(), backend, TestTokens.AGENT);
        java.util.List<String> ids = agent.pending();
        if (!ids.isEmpty()) {
          agent.take(ids.get(0));
          agent.respond(ids.get(0), ("HTTP/1.1 200 OK\r\nContent-Length: " + backend.length() + "\r\n\r\n" + backend)
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
          return c.get(10, TimeUnit.SECONDS).body();
        }
      }
    }
    throw new AssertionError("no backend received " + path);
  }

  private void live(String... ids) {
    for (String id : ids) {
      server.registry().markSeen(id);
    }
  }

  @Test
  public void pathWithNoRecordIs404() throws Exception {
    HttpResponse<String> r = get("nothing", TestTokens.ALICE);
    assertEquals(404, r.statusCode());
    assertEquals("Not found: no backend is registered for /nothing for alice@example.com\n", r.body());
  }

  @Test
  public void recordWithoutLiveAgentIs503() throws Exception {
    add("sleepy", "alice@example.com", "/");
    HttpResponse<String> r = get("x", TestTokens.ALICE);
    assertEquals(503, r.statusCode());
    assertTrue(r.body(), r.body().contains("\"sleepy\" is not connected"));
  }

  @Test
  public void endUserWithoutTokenIs401() throws Exception {
    add("open", "allUsers", "/");
    live("open");
    HttpResponse<String> r = get("x", null);
    assertEquals(401, r.statusCode());
    assertTrue(r.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer"));
  }

  @Test
  public void agentTokenIsNotAnEndUser() throws Exception {
    add("open", "allUsers", "/");
    live("open");
    assertEquals(401, get("x", TestTokens.AGENT).statusCode());
  }

  @Test
  public void longestPrefixWins() throws Exception {
    add("root", "alice@example.com", "/");
    add("app", "alice@example.com", "/app");
    live("root", "app");
    assertEquals("app", servedBy("app/page", TestTokens.ALICE, "root", "app"));
    assertEquals("root", servedBy("other", TestTokens.ALICE, "root", "app"));
  }

  @Test
  public void usersOwnRecordBeatsAllUsers() throws Exception {
    add("public", "allUsers", "/app");
    add("mine", "alice@example.com", "/");
    live("public", "mine");
    assertEquals("mine", servedBy("app", TestTokens.ALICE, "public", "mine"));
    assertEquals("public", servedBy("app", TestTokens.BOB, "public", "mine"));
  }

  @Test
  public void anotherUsersBackendIsNotFound() throws Exception {
    add("alices", "alice@example.com", "/");
    live("alices");
    assertEquals(404, get("x", TestTokens.BOB).statusCode());
  }

  @Test
  public void deadOwnLongerPrefixIs503NamingItEvenWhenAShorterOneIsLive() throws Exception {
    add("nb1", "alice@example.com", "/nb1/");
    add("root", "alice@example.com", "/");
    live("root");
    HttpResponse<String> r = get("nb1/tree", TestTokens.ALICE);
    assertEquals(503, r.statusCode());
    assertEquals("Service unavailable: the agent of backend \"nb1\" is not connected\n", r.body());
    assertNothingQueuedFor("root");
    assertEquals("root", servedBy("other", TestTokens.ALICE, "root", "nb1"));
  }

  @Test
  public void deadOwnRecordIs503EvenWhenAnAllUsersRecordIsLive() throws Exception {
    add("mine", "alice@example.com", "/nb1/");
    add("public", "allUsers", "/");
    live("public");
    HttpResponse<String> r = get("nb1/tree", TestTokens.ALICE);
    assertEquals(503, r.statusCode());
    assertTrue(r.body(), r.body().contains("backend \"mine\" is not connected"));
    assertNothingQueuedFor("public");
  }

  @Test
  public void allUsersRecordServesAPathNoneOfTheUsersOwnRecordsMatches() throws Exception {
    add("mine", "alice@example.com", "/nb1/");
    add("public", "allUsers", "/");
    live("mine", "public");
    assertEquals("public", servedBy("elsewhere", TestTokens.ALICE, "public", "mine"));
    assertEquals("mine", servedBy("nb1/tree", TestTokens.ALICE, "public", "mine"));
  }

  /** The backend's queue is empty: no request reached it (a poll with nothing waiting answers []). */
  private void assertNothingQueuedFor(String backend) throws Exception {
    assertEquals(java.util.List.of(), new ScriptedAgent(server.url(), backend, TestTokens.AGENT).pending());
  }
}
