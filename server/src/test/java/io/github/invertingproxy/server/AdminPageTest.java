package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The admin page is served on the admin listener only, with headers that keep other pages from
 * framing it and any script but its own from running in it.
 */
public class AdminPageTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @After
  public void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private void startOpen() throws Exception {
    server = StandaloneServer.builder().port(0).build().start();
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String csp(HttpResponse<?> r) {
    return r.headers().firstValue("Content-Security-Policy").orElse("");
  }

  @Test
  public void thePageIsServedWithAPolicyThatAllowsOnlyItsOwnScriptAndNoFraming() throws Exception {
    startOpen();
    HttpResponse<String> r = get(server.adminUrl() + "admin/");
    assertEquals(200, r.statusCode());
    assertEquals("text/html;charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow().replace(" ", ""));
    assertTrue(r.body(), r.body().contains("<script src=\"admin.js\" defer></script>"));
    String policy = csp(r);
    assertTrue(policy, policy.startsWith("default-src 'none'; script-src 'self';"));
    assertTrue(policy, policy.contains("frame-ancestors 'none'"));
    assertFalse(policy, policy.contains("unsafe-inline"));
    assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElseThrow());
    assertEquals("no-store", r.headers().firstValue("Cache-Control").orElseThrow());
    assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElseThrow());
  }

  @Test
  public void thePolicyAllowsThePagesOwnStyleBlockByItsHash() throws Exception {
    startOpen();
    HttpResponse<String> r = get(server.adminUrl() + "admin/");
    String body = r.body();
    String css = body.substring(body.indexOf("<style>") + "<style>".length(), body.indexOf("</style>"));
    String hash = Base64.getEncoder().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(css.getBytes(StandardCharsets.UTF_8)));
    assertTrue(csp(r), csp(r).contains("style-src 'sha256-" + hash + "'"));
  }

  @Test
  public void theScriptIsServedWithTheSameHeaders() throws Exception {
    startOpen();
    HttpResponse<String> r = get(server.adminUrl() + "admin/admin.js");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/javascript"));
    assertTrue(r.body(), r.body().contains("'../api/backends'"));
    assertTrue(csp(r), csp(r).contains("frame-ancestors 'none'"));
    assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElseThrow());
    assertEquals("no-store", r.headers().firstValue("Cache-Control").orElseThrow());
  }

  @Test
  public void theAdminListenersRootSendsABrowserToThePage() throws Exception {
    startOpen();
    HttpResponse<String> root = get(server.adminUrl());
    assertEquals(302, root.statusCode());
    assertEquals(server.adminUrl() + "admin/", URI.create(server.adminUrl())
        .resolve(root.headers().firstValue("Location").orElseThrow()).toString());
    assertEquals(302, get(server.adminUrl() + "admin").statusCode());
    assertEquals(404, get(server.adminUrl() + "admin/other.js").statusCode());
  }

  @Test
  public void aWriteToThePageIsRefused() throws Exception {
    startOpen();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.adminUrl() + "admin/"))
        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, r.statusCode());
    assertEquals("Method not allowed: the admin page takes GET and HEAD\n", r.body());
  }

  @Test
  public void theProxysOwnListenerPassesThePagesPathToTheBackends() throws Exception {
    startOpen();
    HttpResponse<String> r = get(server.url() + "admin/");
    assertFalse(r.body(), r.body().contains("<html"));
    assertTrue(r.body(), r.body().startsWith("Not found: no backend is registered for /admin/"));
  }

  @Test
  public void withTokensThePageLoadsWithoutOneWhileTheApiAsksForIt() throws Exception {
    server = StandaloneServer.builder().port(0).tokensFile(TestTokens.write(tmp.getRoot().toPath())).build().start();
    assertEquals(200, get(server.adminUrl() + "admin/").statusCode());
    HttpResponse<String> api = get(server.adminUrl() + "api/backends");
    assertEquals(401, api.statusCode());
    assertEquals("Bearer", api.headers().firstValue("WWW-Authenticate").orElseThrow());
  }

  @Test
  public void aTokenThatIsNoAdministratorsIsForbiddenThePageAsTheApi() throws Exception {
    server = StandaloneServer.builder().port(0).tokensFile(TestTokens.write(tmp.getRoot().toPath())).build().start();
    for (String path : new String[] {"admin/", "api/backends"}) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.adminUrl() + path))
          .header("Authorization", "Bearer " + TestTokens.ALICE).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(path, 403, r.statusCode());
      assertFalse(r.body(), r.body().contains("<html"));
    }
  }
}
