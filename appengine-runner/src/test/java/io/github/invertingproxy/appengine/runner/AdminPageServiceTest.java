package io.github.invertingproxy.appengine.runner;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The App Engine {@code api} service serves the admin page beside the admin API, to the same
 * administrators, and its GETs tell each backend's live status as far as Datastore and Memcache can.
 */
public class AdminPageServiceTest {
  private static final String ADMIN_COOKIE = "dev_appserver_login=root@example.com:true:1";
  private static final String USER_COOKIE = "dev_appserver_login=alice@example.com:false:2";
  private static final String AGENT_TOKEN = "page-status-agent-token";

  private static AppEngineRunner runner;
  private static HttpClient http;

  @BeforeClass
  public static void startRunner() throws Exception {
    runner = AppEngineRunner.builder().port(0).oauthToken(AGENT_TOKEN, "agent@example.com", false).build().start();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterClass
  public static void stopRunner() throws Exception {
    if (runner != null) {
      runner.close();
    }
  }

  private static HttpResponse<String> get(String path, String cookie) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(runner.serviceUri("api").resolve(path))
        .header("Accept", "text/html");
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  public void anAdministratorGetsThePageWithItsPolicy() throws Exception {
    HttpResponse<String> r = get("admin/", ADMIN_COOKIE);
    assertEquals(r.body(), 200, r.statusCode());
    assertTrue(r.body(), r.body().contains("<script src=\"admin.js\" defer></script>"));
    String policy = r.headers().firstValue("Content-Security-Policy").orElse("");
    assertTrue(policy, policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElseThrow());
    assertEquals(200, get("admin/admin.js", ADMIN_COOKIE).statusCode());
  }

  @Test
  public void aSignedInUserWhoIsNoAdministratorIsForbiddenAsByTheApi() throws Exception {
    HttpResponse<String> page = get("admin/", USER_COOKIE);
    assertEquals(403, page.statusCode());
    assertEquals("Forbidden: the admin page is for administrators only\n", page.body());
    assertFalse(page.body().contains("<html"));
    assertEquals(403, get("api/backends", USER_COOKIE).statusCode());
  }

  @Test
  public void aBrowserNotSignedInIsSentToSignIn() throws Exception {
    HttpResponse<String> r = get("admin/", null);
    assertEquals(302, r.statusCode());
    assertTrue(r.headers().firstValue("Location").orElse(""), r.headers().firstValue("Location").orElse("")
        .contains("/_ah/login"));
  }

  @Test
  public void theServicesRootSendsABrowserToThePage() throws Exception {
    HttpResponse<String> r = get("", ADMIN_COOKIE);
    assertEquals(302, r.statusCode());
    assertTrue(r.headers().firstValue("Location").orElse("").endsWith("/admin/"));
  }

  private static HttpResponse<String> api(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends" + path))
        .header("Cookie", ADMIN_COOKIE).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  public void theApiTellsWhetherABackendsAgentIsLiveButNotWhatDatastoreCannotCountCheaply() throws Exception {
    HttpRequest create = HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends"))
        .header("Cookie", ADMIN_COOKIE).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"status\",\"endUser\":\"allUsers\","
            + "\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"/\"]}")).build();
    assertEquals(200, http.send(create, HttpResponse.BodyHandlers.ofString()).statusCode());
    HttpResponse<String> before = api("/status");
    assertEquals(before.body(), 200, before.statusCode());
    assertTrue(before.body(), before.body().endsWith("\"live\":false}"));
    assertFalse(before.body(), before.body().contains("agentsConnected") || before.body().contains("requestsInFlight"));

    // The agent's poll is held; the API sees it the moment it arrives.
    http.sendAsync(HttpRequest.newBuilder(runner.serviceUri("agent").resolve("agent/pending"))
        .header("Authorization", "Bearer " + AGENT_TOKEN).header("X-Inverting-Proxy-Backend-ID", "status")
        .GET().build(), HttpResponse.BodyHandlers.discarding());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    String after = api("/status").body();
    while (!after.contains("\"live\":true")) {
      assertTrue("the poll never showed: " + after, System.nanoTime() < deadline);
      Thread.sleep(50);
      after = api("/status").body();
    }
    assertTrue(after, after.contains("\"lastSeen\":\"20"));
    assertTrue(api("").body().contains("\"live\":true"));
  }
}
