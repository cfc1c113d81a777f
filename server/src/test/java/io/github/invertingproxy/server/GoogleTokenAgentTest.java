package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
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
  public void refusalsAreLoggedWithTheirReasonButNeverWithTheToken() throws Exception {
    Logger logger = Logger.getLogger("io.github.invertingproxy.server.google");
    List<String> lines = new CopyOnWriteArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        lines.add(new SimpleFormatter().formatMessage(record));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Level before = logger.getLevel();
    logger.setLevel(Level.FINE);
    logger.addHandler(handler);
    try {
      Map<String, String> refusals = new LinkedHashMap<>();
      refusals.put(google.idToken(AGENT, "https://elsewhere.example.com", Duration.ofHours(1)),
          "audience is not " + AUDIENCE);
      refusals.put(google.idToken(AGENT, AUDIENCE, Duration.ofMinutes(-1)), "expired");
      refusals.put(FakeGoogleKeys.idToken(FakeGoogleKeys.rsaKey("stranger"), AGENT, AUDIENCE, FakeGoogleKeys.GOOGLE_ISSUER,
          Duration.ofHours(1)), "signed by a key that " + google.googleCertsUrl() + " does not publish");
      refusals.put(FakeGoogleKeys.idToken(FakeGoogleKeys.rsaKey("google-1"), AGENT, AUDIENCE, FakeGoogleKeys.GOOGLE_ISSUER,
          Duration.ofHours(1)), "signature");
      refusals.put("ya29.nobody-issued-this", "token info answered 400");
      for (Map.Entry<String, String> refusal : refusals.entrySet()) {
        lines.clear();
        assertEquals(401, poll(refusal.getKey()));
        assertEquals(lines.toString(), 1, lines.size());
        assertTrue(lines.get(0), lines.get(0).startsWith("agent token refused: ") && lines.get(0).contains(refusal.getValue()));
        assertFalse(lines.get(0), lines.get(0).contains(refusal.getKey()));
      }
    } finally {
      logger.removeHandler(handler);
      logger.setLevel(before);
    }
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
