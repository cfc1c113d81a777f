package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.Identity;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The admin API refuses what a page in an administrator's browser could send it: writes that are not
 * JSON, and calls by cookie (or, with authentication off, by no credentials at all) from another
 * origin. Bearer calls from any origin are unaffected.
 */
public class AdminRequestGuardTest {
  private static final String RECORD = "{\"id\":\"b1\",\"endUser\":\"alice@example.com\","
      + "\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"/\"]}";
  private static final String ADMIN_COOKIE = "session=admin";

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @After
  public void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private void start(StandaloneServer.Builder builder) throws Exception {
    server = builder.port(0).build().start();
  }

  /** Administrators by a session cookie, as a sign-in page would give them; bearer tokens per the tokens file. */
  private void startWithCookieSignIn() throws Exception {
    TokenIdentity tokens = new TokenIdentity(TokensFile.read(TestTokens.write(tmp.getRoot().toPath())));
    start(StandaloneServer.builder().identity(new CookieOrTokenIdentity(tokens)));
  }

  private String ownOrigin() {
    String url = server.adminUrl();
    return url.substring(0, url.length() - 1);
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(server.adminUrl() + path));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.BodyPublisher json(String body) {
    return HttpRequest.BodyPublishers.ofString(body);
  }

  @Test
  public void aTextPlainPostIsRefusedWith415EvenWithABearerToken() throws Exception {
    start(StandaloneServer.builder().tokensFile(TestTokens.write(tmp.getRoot().toPath())));
    HttpResponse<String> r = send(request("api/backends").header("Authorization", "Bearer " + TestTokens.ADMIN)
        .header("Content-Type", "text/plain").POST(json(RECORD)));
    assertEquals(415, r.statusCode());
    assertEquals("Unsupported media type: the admin API takes POST bodies as Content-Type: application/json\n", r.body());
    assertEquals("[]", server.registry().list().toString());
  }

  @Test
  public void aFormPostAndAPutWithoutContentTypeAreRefusedWith415() throws Exception {
    start(StandaloneServer.builder());
    assertEquals(415, send(request("api/backends").header("Content-Type", "application/x-www-form-urlencoded")
        .POST(json(RECORD))).statusCode());
    assertEquals(415, send(request("api/backends/b1").PUT(json(RECORD))).statusCode());
    assertEquals(200, send(request("api/backends").header("Content-Type", "application/json; charset=utf-8")
        .POST(json(RECORD))).statusCode());
  }

  @Test
  public void aCookieCallFromAForeignOriginIsForbidden() throws Exception {
    startWithCookieSignIn();
    HttpResponse<String> r = send(request("api/backends").header("Cookie", ADMIN_COOKIE)
        .header("Origin", "http://backend.example").header("Content-Type", "application/json").POST(json(RECORD)));
    assertEquals(403, r.statusCode());
    assertEquals("Forbidden: the admin API takes calls by cookie only from its own origin, " + ownOrigin()
        + "; send a bearer token instead\n", r.body());
    assertTrue(server.registry().list().isEmpty());
  }

  @Test
  public void aCookieCallFromTheSameHostOnAnotherPortOrSchemeIsForbidden() throws Exception {
    startWithCookieSignIn();
    String otherPort = ownOrigin().substring(0, ownOrigin().lastIndexOf(':')) + ":1";
    String otherScheme = ownOrigin().replace("http://", "https://");
    for (String origin : new String[] {otherPort, otherScheme, "null"}) {
      assertEquals(origin, 403, send(request("api/backends").header("Cookie", ADMIN_COOKIE)
          .header("Origin", origin).GET()).statusCode());
    }
  }

  @Test
  public void aCookieCallThatABrowserMarksCrossSiteOrSameSiteIsForbidden() throws Exception {
    startWithCookieSignIn();
    for (String site : new String[] {"cross-site", "same-site"}) {
      HttpResponse<String> r = send(request("api/backends/b1").header("Cookie", ADMIN_COOKIE)
          .header("Sec-Fetch-Site", site).header("Content-Type", "application/json").DELETE());
      assertEquals(site, 403, r.statusCode());
      assertEquals("Forbidden: the admin API takes calls by cookie only from its own origin (Sec-Fetch-Site: "
          + site + "); send a bearer token instead\n", r.body());
    }
  }

  @Test
  public void aSameOriginCookieCallWorks() throws Exception {
    startWithCookieSignIn();
    HttpResponse<String> created = send(request("api/backends").header("Cookie", ADMIN_COOKIE)
        .header("Origin", ownOrigin()).header("Sec-Fetch-Site", "same-origin")
        .header("Content-Type", "application/json").POST(json(RECORD)));
    assertEquals(created.body(), 200, created.statusCode());
    assertEquals(200, send(request("api/backends").header("Cookie", ADMIN_COOKIE)
        .header("Sec-Fetch-Site", "none").GET()).statusCode());
    assertEquals(200, send(request("api/backends/b1").header("Cookie", ADMIN_COOKIE)
        .header("Origin", ownOrigin()).header("Content-Type", "application/json").DELETE()).statusCode());
  }

  @Test
  public void aCookieDeleteWithoutJsonContentTypeIsRefusedWith415() throws Exception {
    startWithCookieSignIn();
    HttpResponse<String> r = send(request("api/backends/b1").header("Cookie", ADMIN_COOKIE)
        .header("Origin", ownOrigin()).DELETE());
    assertEquals(415, r.statusCode());
    assertEquals("Unsupported media type: a DELETE without a bearer token must carry Content-Type: application/json\n",
        r.body());
  }

  @Test
  public void bearerCallsWorkWithoutOriginAndFromAnyOrigin() throws Exception {
    startWithCookieSignIn();
    assertEquals(200, send(request("api/backends").header("Authorization", "Bearer " + TestTokens.ADMIN)
        .header("Content-Type", "application/json").POST(json(RECORD))).statusCode());
    assertEquals(200, send(request("api/backends").header("Authorization", "Bearer " + TestTokens.ADMIN)
        .header("Origin", "http://backend.example").header("Sec-Fetch-Site", "cross-site").GET()).statusCode());
    // A bearer DELETE needs no content type: it has no body, and curl sends none.
    assertEquals(200, send(request("api/backends/b1").header("Authorization", "Bearer " + TestTokens.ADMIN)
        .DELETE()).statusCode());
  }

  @Test
  public void withAuthenticationOffACallFromAnotherOriginIsForbidden() throws Exception {
    start(StandaloneServer.builder());
    assertEquals(403, send(request("api/backends").header("Origin", "http://127.0.0.2:9999")
        .header("Content-Type", "application/json").POST(json(RECORD))).statusCode());
    assertEquals(200, send(request("api/backends").header("Origin", ownOrigin())
        .header("Content-Type", "application/json").POST(json(RECORD))).statusCode());
  }

  @Test
  public void theCommandLineDeletesWithAuthenticationOff() throws Exception {
    start(StandaloneServer.builder());
    assertEquals(200, send(request("api/backends").header("Content-Type", "application/json").POST(json(RECORD)))
        .statusCode());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = BackendsCommand.run(new String[] {"delete", "b1", "--api", server.adminUrl()}, Map.of(),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(err.toString(StandardCharsets.UTF_8), 0, status);
    assertTrue(server.registry().list().isEmpty());
  }

  /** Administrators by cookie, as a browser sign-in would make them, and everyone else by bearer token. */
  private static final class CookieOrTokenIdentity implements Identity {
    private final TokenIdentity tokens;

    CookieOrTokenIdentity(TokenIdentity tokens) {
      this.tokens = tokens;
    }

    @Override
    public Optional<String> endUser(HttpServletRequest request) {
      return tokens.endUser(request);
    }

    @Override
    public void challengeEndUser(HttpServletRequest request, HttpServletResponse response) throws java.io.IOException {
      tokens.challengeEndUser(request, response);
    }

    @Override
    public Optional<AgentAccount> agentAccount(HttpServletRequest request) {
      return tokens.agentAccount(request);
    }

    @Override
    public Access adminAccess(HttpServletRequest request) {
      if (request.getHeader("Authorization") != null) {
        return tokens.adminAccess(request);
      }
      String cookie = request.getHeader("Cookie");
      return cookie != null && cookie.contains(ADMIN_COOKIE) ? Access.ALLOWED : Access.UNAUTHENTICATED;
    }
  }
}
