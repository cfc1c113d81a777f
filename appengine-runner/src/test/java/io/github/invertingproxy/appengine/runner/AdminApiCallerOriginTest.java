package io.github.invertingproxy.appengine.runner;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The App Engine {@code api} service refuses what a page in a signed-in administrator's browser
 * could send it (a backend's page on the proxy's host among them): writes that are not JSON, and
 * cookie calls from any other origin. Bearer calls are unaffected.
 */
public class AdminApiCallerOriginTest {
  private static final String ADMIN_TOKEN = "origin-admin-token";
  private static final String ADMIN_COOKIE = "dev_appserver_login=root@example.com:true:1";
  /** A backend's page on the proxy's host: same site as api-dot-PROJECT.appspot.com, another origin. */
  private static final String PROXY_ORIGIN = "https://my-project.appspot.com";

  private static AppEngineRunner runner;
  private static HttpClient http;

  @BeforeClass
  public static void startRunner() throws Exception {
    runner = AppEngineRunner.builder().port(0).oauthToken(ADMIN_TOKEN, "admin@example.com", true)
        .oauthToken("user-token", "user@example.com", false).build().start();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterClass
  public static void stopRunner() throws Exception {
    if (runner != null) {
      runner.close();
    }
  }

  private static String record(String id) {
    return "{\"id\":\"" + id + "\",\"endUser\":\"alice@example.com\",\"backendUser\":\"agent@example.com\","
        + "\"pathPrefixes\":[\"/" + id + "/\"]}";
  }

  private static String ownOrigin() {
    String uri = runner.serviceUri("api").toString();
    return uri.substring(0, uri.length() - 1);
  }

  private static HttpRequest.Builder api(String path) {
    return HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends" + path));
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static boolean exists(String id) throws Exception {
    return send(api("/" + id).header("Authorization", "Bearer " + ADMIN_TOKEN).GET()).statusCode() == 200;
  }

  @Test
  public void aTextPlainPostIsRefusedWith415() throws Exception {
    HttpResponse<String> r = send(api("").header("Authorization", "Bearer " + ADMIN_TOKEN)
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(record("plain"))));
    assertEquals(415, r.statusCode());
    assertEquals("Unsupported media type: the admin API takes POST bodies as Content-Type: application/json\n", r.body());
    assertFalse(exists("plain"));
  }

  @Test
  public void aCookieCallFromTheProxysOriginIsForbidden() throws Exception {
    HttpResponse<String> r = send(api("").header("Cookie", ADMIN_COOKIE).header("Origin", PROXY_ORIGIN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(record("foreign"))));
    assertEquals(403, r.statusCode());
    assertTrue(r.body(), r.body().startsWith("Forbidden: the admin API takes calls by cookie only from its own origin"));
    assertFalse(exists("foreign"));
  }

  @Test
  public void aCookieCallThatTheBrowserMarksCrossSiteOrSameSiteIsForbidden() throws Exception {
    for (String site : new String[] {"cross-site", "same-site"}) {
      HttpResponse<String> r = send(api("").header("Cookie", ADMIN_COOKIE).header("Sec-Fetch-Site", site)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(record("site"))));
      assertEquals(site, 403, r.statusCode());
    }
    assertFalse(exists("site"));
  }

  @Test
  public void aSameOriginCookieCallWorks() throws Exception {
    HttpResponse<String> created = send(api("").header("Cookie", ADMIN_COOKIE).header("Origin", ownOrigin())
        .header("Sec-Fetch-Site", "same-origin").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(record("same"))));
    assertEquals(created.body(), 200, created.statusCode());
    assertEquals(200, send(api("/same").header("Cookie", ADMIN_COOKIE).header("Origin", ownOrigin())
        .header("Content-Type", "application/json").DELETE()).statusCode());
    assertFalse(exists("same"));
  }

  @Test
  public void aBearerCallWithoutOriginWorks() throws Exception {
    assertEquals(200, send(api("").header("Authorization", "Bearer " + ADMIN_TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(record("bearer"))))
        .statusCode());
    assertEquals(200, send(api("/bearer").header("Authorization", "Bearer " + ADMIN_TOKEN).DELETE()).statusCode());
  }

  @Test
  public void aCookieDoesNotStandInForABearerTokenThatIsRefused() throws Exception {
    // Were the cookie to count, a page could add any bearer header and skip the origin check.
    HttpResponse<String> r = send(api("").header("Cookie", ADMIN_COOKIE).header("Authorization", "Bearer user-token")
        .header("Origin", PROXY_ORIGIN).GET());
    assertEquals(403, r.statusCode());
    assertEquals("Forbidden: the admin API is for administrators only\n", r.body());
  }
}
