package io.github.invertingproxy.server.google;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The token-info answers that make an access token's account, and how long they are remembered. */
public class TokenInfoEndpointTest {
  private HttpServer tokenInfo;
  private final Map<String, String> answers = new ConcurrentHashMap<>();
  private final AtomicInteger calls = new AtomicInteger();
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Clock clock = new Clock() {
    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  };

  @Before
  public void start() throws Exception {
    tokenInfo = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    tokenInfo.createContext("/tokeninfo", e -> {
      calls.incrementAndGet();
      String token = e.getRequestURI().getQuery().substring("access_token=".length());
      String answer = answers.get(token);
      byte[] body = (answer == null ? "{\"error\":\"invalid_token\"}" : answer).getBytes(StandardCharsets.UTF_8);
      e.sendResponseHeaders(answer == null ? 400 : 200, body.length);
      try (OutputStream out = e.getResponseBody()) {
        out.write(body);
      }
    });
    tokenInfo.start();
  }

  @After
  public void stop() {
    tokenInfo.stop(0);
  }

  private TokenInfoEndpoint endpoint(int maxCached) {
    return new TokenInfoEndpoint(URI.create("http://127.0.0.1:" + tokenInfo.getAddress().getPort() + "/tokeninfo"),
        Duration.ofSeconds(5), maxCached, clock);
  }

  private void answer(String token, String email, String verified, int expiresIn, String scope) {
    answers.put(token, "{\"email\":\"" + email + "\",\"email_verified\":\"" + verified + "\",\"expires_in\":\"" + expiresIn
        + "\",\"scope\":\"" + scope + "\"}");
  }

  private static final String EMAIL_SCOPE = "openid https://www.googleapis.com/auth/userinfo.email";

  @Test
  public void acceptedTokenIsRememberedUntilItExpires() throws Exception {
    answer("t1", "agent@example.com", "true", 60, EMAIL_SCOPE);
    TokenInfoEndpoint endpoint = endpoint(10);
    assertEquals("agent@example.com", endpoint.email("t1"));
    now = now.plusSeconds(59);
    assertEquals("agent@example.com", endpoint.email("t1"));
    assertEquals(1, calls.get());
    now = now.plusSeconds(1);
    answers.remove("t1"); // Google forgets an expired token
    try {
      endpoint.email("t1");
      fail("an expired token was still accepted");
    } catch (TokenRefusal e) {
      assertEquals("the access token is not valid (token info answered 400)", e.getMessage());
    }
    assertEquals(2, calls.get());
  }

  @Test
  public void noMoreTokensAreRememberedThanTheLimit() throws Exception {
    TokenInfoEndpoint endpoint = endpoint(2);
    for (String token : new String[] {"a", "b", "c", "d"}) {
      answer(token, token + "@example.com", "true", 3600, EMAIL_SCOPE);
      endpoint.email(token);
      assertTrue(endpoint.cached() <= 2);
    }
    assertEquals(4, calls.get());
  }

  @Test
  public void tokenWithoutAVerifiedEmailOrTheScopesIsRefused() {
    answer("unverified", "agent@example.com", "false", 3600, EMAIL_SCOPE);
    answer("no-email", "", "true", 3600, EMAIL_SCOPE);
    answer("storage-only", "agent@example.com", "true", 3600, "https://www.googleapis.com/auth/devstorage.read_only");
    answer("expired", "agent@example.com", "true", 0, EMAIL_SCOPE);
    TokenInfoEndpoint endpoint = endpoint(10);
    Map<String, String> reasons = Map.of(
        "unverified", "the access token's email agent@example.com is not verified",
        "no-email", "the access token carries no email (it needs the userinfo.email scope)",
        "storage-only", "the access token has neither the cloud-platform nor the userinfo.email scope",
        "expired", "the access token has expired");
    for (Map.Entry<String, String> reason : reasons.entrySet()) {
      try {
        endpoint.email(reason.getKey());
        fail(reason.getKey() + " was accepted");
      } catch (TokenRefusal e) {
        assertEquals(reason.getValue(), e.getMessage());
      }
    }
    assertEquals(0, endpoint.cached());
  }
}
