package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class AdminApiTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0).tokensFile(TestTokens.write(tmp.getRoot().toPath())).build().start();
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  private HttpResponse<String> call(String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.adminUrl() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String record(String id) {
    return "{\"id\":\"" + id + "\",\"endUser\":\"alice@example.com\",\"backendUser\":\"agent@example.com\","
        + "\"pathPrefixes\":[\"/\"]}";
  }

  /** A record as the GETs show it while no agent has polled for it: the output-only status fields. */
  private static String withNoAgent(String record) {
    return record.substring(0, record.length() - 1) + ",\"live\":false,\"agentsConnected\":0,\"requestsInFlight\":0}";
  }

  @Test
  public void createdRecordIsListedAndReadable() throws Exception {
    assertEquals(200, call("POST", "api/backends", record("b1"), TestTokens.ADMIN).statusCode());
    HttpResponse<String> list = call("GET", "api/backends", null, TestTokens.ADMIN);
    assertEquals(200, list.statusCode());
    assertEquals("application/json", list.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("[" + withNoAgent(record("b1")) + "]", list.body());
    assertEquals(withNoAgent(record("b1")), call("GET", "api/backends/b1", null, TestTokens.ADMIN).body());
  }

  @Test
  public void duplicateIdIsAConflict() throws Exception {
    call("POST", "api/backends", record("b1"), TestTokens.ADMIN);
    HttpResponse<String> again = call("POST", "api/backends", record("b1"), TestTokens.ADMIN);
    assertEquals(409, again.statusCode());
    assertTrue(again.body(), again.body().contains("\"b1\" already exists"));
  }

  @Test
  public void badRecordIsRefusedNamingTheField() throws Exception {
    HttpResponse<String> r = call("POST", "api/backends",
        "{\"id\":\"b1\",\"endUser\":\"alice@example.com\",\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"x\"]}",
        TestTokens.ADMIN);
    assertEquals(400, r.statusCode());
    assertTrue(r.body(), r.body().startsWith("Bad request: field pathPrefixes:"));
    assertEquals("[]", call("GET", "api/backends", null, TestTokens.ADMIN).body());
  }

  @Test
  public void updateReplacesTheRecord() throws Exception {
    call("POST", "api/backends", record("b1"), TestTokens.ADMIN);
    String changed = record("b1").replace("[\"/\"]", "[\"/app\"]");
    assertEquals(200, call("PUT", "api/backends/b1", changed, TestTokens.ADMIN).statusCode());
    assertEquals(withNoAgent(changed), call("GET", "api/backends/b1", null, TestTokens.ADMIN).body());
    assertEquals(404, call("PUT", "api/backends/nope", record("nope"), TestTokens.ADMIN).statusCode());
    assertEquals(400, call("PUT", "api/backends/b1", record("b2"), TestTokens.ADMIN).statusCode());
  }

  @Test
  public void deleteRemovesTheRecordOnce() throws Exception {
    call("POST", "api/backends", record("b1"), TestTokens.ADMIN);
    assertEquals(200, call("DELETE", "api/backends/b1", null, TestTokens.ADMIN).statusCode());
    assertEquals(404, call("GET", "api/backends/b1", null, TestTokens.ADMIN).statusCode());
    assertEquals(404, call("DELETE", "api/backends/b1", null, TestTokens.ADMIN).statusCode());
  }

  @Test
  public void callerWithoutTokenIsUnauthenticated() throws Exception {
    HttpResponse<String> r = call("GET", "api/backends", null, null);
    assertEquals(401, r.statusCode());
    assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElseThrow());
  }

  @Test
  public void nonAdminIsForbidden() throws Exception {
    assertEquals(403, call("GET", "api/backends", null, TestTokens.ALICE).statusCode());
    assertEquals(403, call("POST", "api/backends", record("b1"), TestTokens.AGENT).statusCode());
    assertEquals(401, call("GET", "api/backends", null, "not-a-known-token-at-all").statusCode());
  }

  @Test
  public void oversizedRecordIsRefused() throws Exception {
    String huge = record("b1").replace("[\"/\"]", "[\"/" + "a".repeat(70_000) + "\"]");
    assertEquals(413, call("POST", "api/backends", huge, TestTokens.ADMIN).statusCode());
  }

  @Test
  public void unsupportedMethodIsRefusedWithAllow() throws Exception {
    HttpResponse<String> r = call("PATCH", "api/backends", "{}", TestTokens.ADMIN);
    assertEquals(405, r.statusCode());
    assertEquals("GET, POST", r.headers().firstValue("Allow").orElseThrow());
  }
}
