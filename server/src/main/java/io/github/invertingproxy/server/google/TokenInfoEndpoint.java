package io.github.invertingproxy.server.google;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Google's token-info endpoint, which tells whose an OAuth access token is: {@code GET
 * URL?access_token=...} answers JSON with {@code email}, {@code email_verified}, {@code expires_in}
 * and {@code scope}. An accepted token is remembered (by its SHA-256, never in clear) until it
 * expires, so an agent's polls cost one call per token; at most {@code maxCached} are remembered.
 */
final class TokenInfoEndpoint {
  private static final Logger LOG = Logger.getLogger(TokenInfoEndpoint.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * The JDK client's debug log names the URL, whose query holds the token: kept quiet even under
   * {@code --debug}. Held here so that the level set on it is not collected with it.
   */
  private static final Logger HTTP_CLIENT_DEBUG = Logger.getLogger("jdk.internal.httpclient.debug");

  static {
    HTTP_CLIENT_DEBUG.setLevel(Level.INFO);
  }
  /** App Engine's OAuth service accepts tokens with either scope; so does this server. */
  static final Set<String> SCOPES = Set.of(
      "https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email");

  private record Accepted(String email, Instant expires) {}

  private final URI endpoint;
  private final HttpClient http;
  private final Duration timeout;
  private final int maxCached;
  private final Clock clock;
  private final Map<String, Accepted> accepted = new ConcurrentHashMap<>();

  TokenInfoEndpoint(URI endpoint, Duration timeout, int maxCached, Clock clock) {
    this.endpoint = requireNonNull(endpoint, "endpoint");
    this.timeout = requireNonNull(timeout, "timeout");
    this.maxCached = maxCached;
    this.clock = requireNonNull(clock, "clock");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** The verified email of the token's account. */
  String email(String accessToken) throws TokenRefusal {
    String key = digest(accessToken);
    Accepted known = accepted.get(key);
    Instant now = clock.instant();
    if (known != null && now.isBefore(known.expires())) {
      return known.email();
    }
    Accepted fresh = ask(accessToken, now);
    remember(key, fresh, now);
    return fresh.email();
  }

  int cached() {
    return accepted.size();
  }

  private Accepted ask(String accessToken, Instant now) throws TokenRefusal {
    String separator = endpoint.getRawQuery() == null ? "?" : "&";
    HttpRequest request = HttpRequest.newBuilder(
            URI.create(endpoint + separator + "access_token=" + URLEncoder.encode(accessToken, StandardCharsets.UTF_8)))
        .timeout(timeout).GET().build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      // The message may name the URL, which holds the token: log the endpoint alone.
      LOG.log(Level.WARNING, "token info endpoint {0} failed: {1}", new Object[] {endpoint, e.getClass().getSimpleName()});
      throw new TokenRefusal("the token info endpoint could not be reached");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TokenRefusal("interrupted while asking the token info endpoint");
    }
    if (response.statusCode() != 200) {
      if (response.statusCode() >= 500) {
        LOG.log(Level.WARNING, "token info endpoint {0} answered {1}", new Object[] {endpoint, response.statusCode()});
      }
      throw new TokenRefusal("the access token is not valid (token info answered " + response.statusCode() + ")");
    }
    JsonNode info;
    try {
      info = JSON.readTree(response.body());
    } catch (IOException e) {
      throw new TokenRefusal("the token info endpoint answered something other than JSON");
    }
    String email = info.path("email").asText("");
    if (email.isEmpty()) {
      throw new TokenRefusal("the access token carries no email (it needs the userinfo.email scope)");
    }
    if (!info.path("email_verified").asText("").equals("true")) {
      throw new TokenRefusal("the access token's email " + email + " is not verified");
    }
    long expiresIn = info.path("expires_in").asLong(0);
    if (expiresIn <= 0) {
      throw new TokenRefusal("the access token has expired");
    }
    String scope = info.path("scope").asText("");
    if (!scope.isEmpty() && SCOPES.stream().noneMatch(s -> Set.of(scope.split(" ")).contains(s))) {
      throw new TokenRefusal("the access token has neither the cloud-platform nor the userinfo.email scope");
    }
    return new Accepted(email, now.plusSeconds(expiresIn));
  }

  private void remember(String key, Accepted fresh, Instant now) {
    if (accepted.size() >= maxCached) {
      accepted.values().removeIf(a -> !now.isBefore(a.expires()));
      // Still full: forget some; they are asked again when they come back.
      Iterator<String> keys = accepted.keySet().iterator();
      while (accepted.size() >= maxCached && keys.hasNext()) {
        keys.next();
        keys.remove();
      }
    }
    accepted.put(key, fresh);
  }

  private static String digest(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is always available", e);
    }
  }
}
