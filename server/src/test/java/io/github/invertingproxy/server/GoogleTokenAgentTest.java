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

/** {@code --auth google}: agents (and end users) known by the Google account of their bearer token. */
public class GoogleTokenAgentTest {
  private static final String AUDIENCE = "https://proxy.example.com";
  private static final String AGENT = "agent-sa@test-project.iam.gserviceaccount.com";
  private static final String ALICE = "alice@example.com";
  private static final String ALICE_ACCESS_TOKEN = "ya29.alice-access-token";

  private FakeGoogleKeys google;
  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    google = new FakeGoogleKeys();
    google.grantAccessToken(ALICE_ACCESS_TOKEN, ALICE);
    server = serverWith(GoogleIdentity.builder().googleTokens(AUDIENCE));
    server.registry().add(BackendRecord.builder().id("b1").endUser(ALICE).backendUser(AGENT).pathPrefixes("/").build());
  }

  private StandaloneServer serverWith(GoogleIdentity.Builder identity) throws Exception {
    return StandaloneServer.builder().port(0).adminPort(0)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofMillis(200)).build())
        .identity(identity.googleCertsUrl(google.googleCertsUrl()).tokenInfoUrl(google.tokenInfoUrl()).build())
        .build().start();
  }

  @After
  public void stop() throws Exception {
    server.close();
    google.close();
  }

  private int poll(String token) throws Exception {
    return new ScriptedAgent(server.url(), "b1", token).pendingRaw().statusCode();
  }

  @Test
  public void agentWithAGoogleIdTokenServesItsBackend() throws Exception {
    ScriptedAgent agent = new ScriptedAgent(server.url(), "b1", google.idToken(AGENT, AUDIENCE, Duration.ofHours(1)));
    assertEquals(List.of(), agent.pending()); // the backend is live once its agent polled
    CompletableFuture<HttpResponse<String>> client = http.sendAsync(HttpRequest.newBuilder(URI.create(server.url() + "hello"))
        .header("Authorization", "Bearer " + ALICE_ACCESS_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    List<String> ids = agent.pendingWithin(10);
    assertEquals(200, agent.take(ids.get(0)).statusCode());
    agent.respond(ids.get(0), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".getBytes(StandardCharsets.ISO_8859_1));
    HttpResponse<String> r = client.get(10, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode());
    assertEquals("hello", r.body());
  }

  @Test
  public void idTokenForAnotherAudienceIsRefused() throws Exception {
    assertEquals(401, poll(google.idToken(AGENT, "https://elsewhere.example.com", Duration.ofHours(1))));
  }

  @Test
  public void expiredIdTokenIsRefused() throws Exception {
    assertEquals(401, poll(google.idToken(AGENT, AUDIENCE, Duration.ofMinutes(-1))));
  }

  @Test
  public void idTokenSignedByAKeyGoogleDoesNotPublishIsRefused() throws Exception {
    // Under an unknown key id, and forged under the id of the published key.
    assertEquals(401, poll(FakeGoogleKeys.idToken(FakeGoogleKeys.rsaKey("stranger"), AGENT, AUDIENCE,
        FakeGoogleKeys.GOOGLE_ISSUER, Duration.ofHours(1))));
    assertEquals(401, poll(FakeGoogleKeys.idToken(FakeGoogleKeys.rsaKey("google-1"), AGENT, AUDIENCE,
        FakeGoogleKeys.GOOGLE_ISSUER, Duration.ofHours(1))));
    assertEquals(200, poll(google.idToken(AGENT, AUDIENCE, Duration.ofHours(1))));
  }

  @Test
  public void idTokenFromAnotherIssuerIsRefused() throws Exception {
    FakeGoogleKeys.SigningKey published = google.rotateGoogleKey("google-2");
    assertEquals(401, poll(FakeGoogleKeys.idToken(published, AGENT, AUDIENCE, "https://issuer.example.com", Duration.ofHours(1))));
    assertEquals(200, poll(FakeGoogleKeys.idToken(published, AGENT, AUDIENCE, "accounts.google.com", Duration.ofHours(1))));
  }

  @Test
  public void agentOfAnotherAccountIsRefused() throws Exception {
    HttpResponse<String> r = new ScriptedAgent(server.url(), "b1",
        google.idToken("mallory@example.com", AUDIENCE, Duration.ofHours(1))).pendingRaw();
    assertEquals(401, r.statusCode());
    assertTrue(r.body(), r.body().contains("mallory@example.com may not serve backend \"b1\""));
  }

  @Test
  public void accessTokenIsAskedOfTokenInfoOnceAndThenRemembered() throws Exception {
    google.grantAccessToken("ya29.agent-access-token", AGENT);
    assertEquals(200, poll("ya29.agent-access-token"));
    assertEquals(200, poll("ya29.agent-access-token"));
    assertEquals(200, poll("ya29.agent-access-token"));
    assertEquals(1, google.tokenInfoCalls());
  }

  @Test
  public void unknownAccessTokenIsRefused() throws Exception {
    assertEquals(401, poll("ya29.nobody-issued-this"));
    assertEquals(401, poll(null));
  }

  @Test
  public void accessTokenOfAnotherAccountIsRefused() throws Exception {
    assertEquals(401, poll(ALICE_ACCESS_TOKEN));
  }

  @Test
  public void endUserWithoutATokenIsAskedForOne() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "hello")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(401, r.statusCode());
    assertEquals("Bearer realm=\"inverting-proxy\"", r.headers().firstValue("WWW-Authenticate").orElseThrow());
  }

  @Test
  public void keysThatGoogleRotatedAreFetchedAgain() throws Exception {
    server.close();
    server = serverWith(GoogleIdentity.builder().googleTokens(AUDIENCE).minKeyRefreshInterval(Duration.ZERO));
    server.registry().add(BackendRecord.builder().id("b1").endUser(ALICE).backendUser(AGENT).pathPrefixes("/").build());
    assertEquals(200, poll(google.idToken(AGENT, AUDIENCE, Duration.ofHours(1))));
    assertEquals(200, poll(google.idToken(AGENT, AUDIENCE, Duration.ofHours(1))));
    assertEquals(1, google.certFetches());
    google.rotateGoogleKey("google-2");
    assertEquals(200, poll(google.idToken(AGENT, AUDIENCE, Duration.ofHours(1))));
    assertEquals(2, google.certFetches());
  }

  @Test
  public void idTokensAreRefusedWithoutAnAudienceToCheck() throws Exception {
    server.close();
    server = serverWith(GoogleIdentity.builder().googleTokens(null));
    server.registry().add(BackendRecord.builder().id("b1").endUser(ALICE).backendUser(AGENT).pathPrefixes("/").build());
    assertEquals(401, poll(google.idToken(AGENT, AUDIENCE, Duration.ofHours(1))));
    google.grantAccessToken("ya29.agent-access-token", AGENT);
    assertEquals(200, poll("ya29.agent-access-token"));
  }
}
