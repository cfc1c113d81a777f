package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.google.GoogleIdentity;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * {@code --auth google,iap}: end users come through Identity-Aware Proxy and are routed by the
 * email of its signed assertion; agents use Google tokens; administrators are an allow-list.
 */
public class IapIdentityTest {
  private static final String IAP_AUDIENCE = "/projects/123456/global/backendServices/987654";
  private static final String GOOGLE_AUDIENCE = "https://proxy.example.com";
  private static final String AGENT = "agent-sa@test-project.iam.gserviceaccount.com";
  private static final String ALICE = "alice@example.com";
  private static final String ADMIN = "admin@example.com";

  private FakeGoogleKeys google;
  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    google = new FakeGoogleKeys();
    server = StandaloneServer.builder().port(0).adminPort(0)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofMillis(200)).build())
        .identity(GoogleIdentity.builder().googleTokens(GOOGLE_AUDIENCE).iap(IAP_AUDIENCE).admins(Set.of("Admin@Example.com"))
            .googleCertsUrl(google.googleCertsUrl()).iapCertsUrl(google.iapCertsUrl()).tokenInfoUrl(google.tokenInfoUrl())
            .build())
        .build().start();
    server.registry().add(BackendRecord.builder().id("alices").endUser(ALICE).backendUser(AGENT).pathPrefixes("/").build());
  }

  @After
  public void stop() throws Exception {
    server.close();
    google.close();
  }

  private HttpResponse<String> get(String url, String header, String value) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (value != null) {
      b.header(header, value);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> asUser(String assertion) throws Exception {
    return get(server.url() + "notebook", "x-goog-iap-jwt-assertion", assertion);
  }

  @Test
  public void userSignedInThroughIapIsRoutedByTheAssertionsEmail() throws Exception {
    ScriptedAgent agent = new ScriptedAgent(server.url(), "alices", google.idToken(AGENT, GOOGLE_AUDIENCE, Duration.ofHours(1)));
    assertEquals(List.of(), agent.pending());
    CompletableFuture<HttpResponse<String>> client = http.sendAsync(HttpRequest.newBuilder(URI.create(server.url() + "notebook"))
        .header("x-goog-iap-jwt-assertion", google.iapAssertion(ALICE, IAP_AUDIENCE, Duration.ofMinutes(10))).build(),
        HttpResponse.BodyHandlers.ofString());
    List<String> ids = agent.pendingWithin(10);
    assertTrue(agent.take(ids.get(0)).body().startsWith("GET /notebook HTTP/1.1"));
    agent.respond(ids.get(0), "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nalice's".getBytes(StandardCharsets.ISO_8859_1));
    assertEquals("alice's", client.get(10, TimeUnit.SECONDS).body());
  }

  @Test
  public void anotherUserSignedInThroughIapFindsNoBackend() throws Exception {
    assertEquals(404, asUser(google.iapAssertion("bob@example.com", IAP_AUDIENCE, Duration.ofMinutes(10))).statusCode());
  }

  @Test
  public void requestThatDidNotPassIapIsUnauthorized() throws Exception {
    HttpResponse<String> r = asUser(null);
    assertEquals(401, r.statusCode());
    assertTrue(r.body(), r.body().contains("Identity-Aware Proxy"));
    assertEquals(401, asUser("not.an.assertion").statusCode());
    assertEquals(401, asUser("garbage").statusCode());
  }

  @Test
  public void assertionSignedByAnotherKeyIsUnauthorized() throws Exception {
    assertEquals(401, asUser(FakeGoogleKeys.iapAssertion(FakeGoogleKeys.ecKey("iap-1"), ALICE, IAP_AUDIENCE,
        Duration.ofMinutes(10))).statusCode());
    assertEquals(401, asUser(FakeGoogleKeys.iapAssertion(FakeGoogleKeys.ecKey("stranger"), ALICE, IAP_AUDIENCE,
        Duration.ofMinutes(10))).statusCode());
  }

  @Test
  public void assertionForAnotherAudienceIsUnauthorized() throws Exception {
    assertEquals(401, asUser(google.iapAssertion(ALICE, "/projects/123456/global/backendServices/111", Duration.ofMinutes(10)))
        .statusCode());
  }

  @Test
  public void expiredAssertionIsUnauthorized() throws Exception {
    assertEquals(401, asUser(google.iapAssertion(ALICE, IAP_AUDIENCE, Duration.ofMinutes(-1))).statusCode());
  }

  @Test
  public void googleIdTokenDoesNotStandInForAnIapAssertion() throws Exception {
    assertEquals(401, get(server.url() + "notebook", "Authorization",
        "Bearer " + google.idToken(ALICE, GOOGLE_AUDIENCE, Duration.ofHours(1))).statusCode());
  }

  @Test
  public void adminOnTheAllowListMayUseTheAdminApiWithAGoogleToken() throws Exception {
    HttpResponse<String> r = get(server.adminUrl() + "api/backends", "Authorization",
        "Bearer " + google.idToken(ADMIN, GOOGLE_AUDIENCE, Duration.ofHours(1)));
    assertEquals(200, r.statusCode());
    assertTrue(r.body(), r.body().contains("\"alices\""));
    google.grantAccessToken("ya29.admin", ADMIN);
    assertEquals(200, get(server.adminUrl() + "api/backends", "Authorization", "Bearer ya29.admin").statusCode());
  }

  @Test
  public void adminOnTheAllowListMayUseTheAdminApiThroughIap() throws Exception {
    assertEquals(200, get(server.adminUrl() + "api/backends", "x-goog-iap-jwt-assertion",
        google.iapAssertion(ADMIN, IAP_AUDIENCE, Duration.ofMinutes(10))).statusCode());
  }

  @Test
  public void verifiedUserOffTheAllowListIsForbidden() throws Exception {
    assertEquals(403, get(server.adminUrl() + "api/backends", "Authorization",
        "Bearer " + google.idToken(ALICE, GOOGLE_AUDIENCE, Duration.ofHours(1))).statusCode());
    assertEquals(403, get(server.adminUrl() + "api/backends", "x-goog-iap-jwt-assertion",
        google.iapAssertion(ALICE, IAP_AUDIENCE, Duration.ofMinutes(10))).statusCode());
  }

  @Test
  public void adminApiCallerWithoutVerifiedIdentityIsUnauthenticated() throws Exception {
    assertEquals(401, get(server.adminUrl() + "api/backends", "Authorization", null).statusCode());
    assertEquals(401, get(server.adminUrl() + "api/backends", "Authorization",
        "Bearer " + google.idToken(ADMIN, "https://elsewhere.example.com", Duration.ofHours(1))).statusCode());
  }
}
