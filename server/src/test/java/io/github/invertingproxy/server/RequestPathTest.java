package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.PendingRequestIds;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Request paths with dot segments and encoded separators, sent byte by byte on a raw socket: an
 * {@code allUsers} record for {@code /public/} (a file server, say) must never receive a path that
 * its backend resolves outside {@code /public/}.
 */
public class RequestPathTest {
  private StandaloneServer server;
  private ScriptedAgent files;

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(1)).build()).build().start();
    add("files", "/public/");
    files = new ScriptedAgent(server.url(), "files", null);
    files.pendingRaw(); // live from now on
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  private void add(String id, String prefix) {
    server.registry().add(BackendRecord.builder().id(id).endUser("allUsers").backendUser("agent@example.com")
        .pathPrefixes(prefix).build());
  }

  private String send(String target) throws Exception {
    return RawHttp.exchange(server.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  /** Sends {@code target}, answers it as {@code agent}, and returns the request line the agent was given. */
  private String requestLineAt(ScriptedAgent agent, String target) throws Exception {
    CompletableFuture<String> client = CompletableFuture.supplyAsync(() -> {
      try {
        return send(target);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    String id = agent.pendingWithin(10).get(0);
    String request = agent.take(id).body();
    agent.respond(id, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertEquals(200, RawHttp.status(client.get(10, TimeUnit.SECONDS)));
    return request.substring(0, request.indexOf("\r\n"));
  }

  private static String body(String response) {
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  @Test
  public void dotDotOutOfThePrefixIsRoutedByTheNormalisedPathAndSoFindsNoBackend() throws Exception {
    for (String target : List.of("/public/../secret.txt", "/public/%2e%2e/secret.txt", "/public/%2E%2E/secret.txt",
        "/public/.%2e/secret.txt", "/public/%2e./secret.txt", "/public/a/../../secret.txt")) {
      String r = send(target);
      assertEquals(target + ": " + r, 404, RawHttp.status(r));
      assertEquals(target, "Not found: no backend is registered for /secret.txt for anonymous users\n", body(r));
    }
    assertEquals("nothing reached the file server", List.of(), files.pending());
  }

  @Test
  public void dotDotOutOfThePrefixReachesOnlyTheBackendOfTheNormalisedPath() throws Exception {
    add("site", "/");
    ScriptedAgent site = new ScriptedAgent(server.url(), "site", null);
    site.pendingRaw();
    assertEquals("GET /secret.txt HTTP/1.1", requestLineAt(site, "/public/../secret.txt"));
    assertEquals("GET /secret.txt HTTP/1.1", requestLineAt(site, "/public/.%2e/secret.txt"));
    assertEquals("nothing reached the file server", List.of(), files.pending());
  }

  @Test
  public void pathsWhoseMeaningDependsOnDecodingAre400WithTheReason() throws Exception {
    String[][] cases = {
        {"/public/..%2fsecret.txt", "the path has an encoded slash (%2f): backends disagree on what it means"},
        {"/public/%2e%2e%2fsecret.txt", "the path has an encoded slash (%2f): backends disagree on what it means"},
        {"/public/..%2Fsecret.txt", "the path has an encoded slash (%2F): backends disagree on what it means"},
        {"/public/..%5Csecret.txt", "the path has a backslash (%5C): some backends read it as a slash"},
        {"/public/..\\secret.txt", "the path has a backslash: some backends read it as a slash"},
        {"/public/..;/secret.txt", "the path has a dot segment with parameters (..;): backends disagree on what it means"},
        {"/public/a%0d%0aX-Injected:%201", "the path has a control character (%0d)"},
    };
    for (String[] c : cases) {
      String r = send(c[0]);
      assertEquals(c[0] + ": " + r, 400, RawHttp.status(r));
      assertEquals(c[0], "Bad request: " + c[1] + "\n", body(r));
    }
    // Sent as one byte (ISO-8859-1), which Jetty reads as UTF-8: which character the path holds depends on the reader.
    String r = send("/public/caf\u00e9");
    assertEquals(r, 400, RawHttp.status(r));
    assertTrue(r, body(r).startsWith("Bad request: the path has a character outside ASCII (U+"));
    assertEquals("nothing was queued", 0, server.exchanges().size());
    assertEquals("nothing reached the file server", List.of(), files.pending());
  }

  /** Jetty's request-line parser refuses these itself, before any servlet, with a page of its own. */
  @Test
  public void pathsThatClimbAboveTheRootOrCarryNulAre400() throws Exception {
    for (String target : List.of("/../secret.txt", "/public/../../secret.txt", "/%2e%2e/secret.txt",
        "/public/secret.txt%00.png", "/public/%zz")) {
      String r = send(target);
      assertEquals(target + ": " + r, 400, RawHttp.status(r));
    }
    assertEquals("nothing was queued", 0, server.exchanges().size());
    assertEquals("nothing reached the file server", List.of(), files.pending());
  }

  @Test
  public void anEscapeThatIsNotUtf8ReachesTheBackendAsSent() throws Exception {
    assertEquals("GET /public/latin1-caf%E9 HTTP/1.1", requestLineAt(files, "/public/latin1-caf%E9"));
  }

  @Test
  public void theAgentReceivesTheNormalisedPathAndTheQueryAsSent() throws Exception {
    assertEquals("GET /public/b.txt?next=/../x&q=%2e%2e%2f HTTP/1.1",
        requestLineAt(files, "/public/./a/../b.txt?next=/../x&q=%2e%2e%2f"));
    assertEquals("GET /public/~user/a%20b HTTP/1.1", requestLineAt(files, "/public/%7Euser/a%20b"));
    assertEquals("GET /public/ HTTP/1.1", requestLineAt(files, "/public/x/.."));
  }

  /**
   * Polls as the file server's agent, announcing (as ours does on every poll) that it carries
   * WebSockets, up to ten times until a request id comes; the ids, or none after ten polls.
   */
  private List<String> pendingAnnouncingWebSockets() throws Exception {
    List<String> ids = List.of();
    for (int poll = 0; poll < 10 && ids.isEmpty(); poll++) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(files.call("agent/pending")
          .header(AgentFeatures.HEADER, AgentFeatures.WEBSOCKET).GET().build(), HttpResponse.BodyHandlers.ofString());
      ids = PendingRequestIds.parse(r.body());
    }
    return ids;
  }

  @Test
  public void aWebSocketUpgradeIsForwardedWithTheNormalisedPath() throws Exception {
    HttpClient.newHttpClient().send(files.call("agent/pending").header(AgentFeatures.HEADER, AgentFeatures.WEBSOCKET)
        .GET().build(), HttpResponse.BodyHandlers.discarding());
    try (Socket client = new Socket("127.0.0.1", server.port())) {
      client.setSoTimeout(10_000);
      client.getOutputStream().write(("GET /public/./a/../ws?room=/../x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
          + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      client.getOutputStream().flush();
      String id = pendingAnnouncingWebSockets().get(0);
      String request = files.take(id).body();
      assertEquals("GET /public/ws?room=/../x HTTP/1.1", request.substring(0, request.indexOf("\r\n")));
      files.respond(id, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      String status = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1)).readLine();
      assertEquals("HTTP/1.1 403 Forbidden", status);
    }
  }

  @Test
  public void anAbsoluteFormTargetIsNormalisedLikeAnyOther() throws Exception {
    String r = send("http://x/public/../secret.txt");
    assertEquals(r, 404, RawHttp.status(r));
    assertTrue(r, body(r).contains("for /secret.txt"));
  }
}
