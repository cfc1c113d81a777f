package io.github.invertingproxy.server.google;

import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.Identity;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * {@code --auth google}, {@code --auth iap} or both: callers known by their Google accounts, as on
 * App Engine. Agents (and end users, without IAP) send a Google ID token or OAuth access token as
 * {@code Authorization: Bearer}; with IAP in front, end users (and agents, without {@code google})
 * are whoever IAP's signed assertion names. Administrators are the emails of an allow-list.
 */
public final class GoogleIdentity implements Identity {
  private static final Logger LOG = Logger.getLogger(GoogleIdentity.class.getName());
  /** The audiences IAP signs for: a backend service's, or an App Engine app's. */
  private static final Pattern IAP_AUDIENCE =
      Pattern.compile("/projects/[0-9]+/(global/backendServices/[0-9]+|apps/[a-z][-a-z0-9:.]*)");

  private final GoogleTokenVerifier tokens;
  private final IapAssertionVerifier iap;
  private final Set<String> admins;

  private GoogleIdentity(Builder b) {
    this.tokens = !b.googleTokens ? null : new GoogleTokenVerifier(
        b.googleAudience == null ? null : new PublishedKeysVerifier(b.googleCertsUrl, b.googleAudience,
            Set.of("https://accounts.google.com", "accounts.google.com"), b.minKeyRefreshInterval, b.clock),
        new TokenInfoEndpoint(URI.create(b.tokenInfoUrl), b.timeout, b.maxCachedAccessTokens, b.clock));
    this.iap = b.iapAudience == null ? null : new IapAssertionVerifier(new PublishedKeysVerifier(
        b.iapCertsUrl, b.iapAudience, Set.of(IapAssertionVerifier.ISSUER), b.minKeyRefreshInterval, b.clock));
    this.admins = b.admins;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Optional<String> endUser(HttpServletRequest request) {
    return iap != null ? iapEmail(request, "end user") : tokenEmail(request, "end user");
  }

  @Override
  public void challengeEndUser(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (iap != null) {
      PlainText.send(response, 401, "Unauthorized: this proxy serves users signed in through Identity-Aware Proxy only"
          + " (no valid " + IapAssertionVerifier.HEADER + ")");
      return;
    }
    response.setHeader("WWW-Authenticate", "Bearer realm=\"inverting-proxy\"");
    PlainText.send(response, 401, "Unauthorized: send \"Authorization: Bearer <token>\" with a Google ID or access token");
  }

  @Override
  public Optional<AgentAccount> agentAccount(HttpServletRequest request) {
    return (tokens != null ? tokenEmail(request, "agent") : iapEmail(request, "agent")).map(AgentAccount::of);
  }

  @Override
  public Access adminAccess(HttpServletRequest request) {
    // A bearer call is judged by its token alone: an IAP assertion follows from a browser's cookie.
    boolean bearer = bearerToken(request) != null;
    Optional<String> email = bearer ? (tokens != null ? tokenEmail(request, "admin") : Optional.empty())
        : iap != null ? iapEmail(request, "admin") : Optional.empty();
    if (email.isEmpty()) {
      return Access.UNAUTHENTICATED;
    }
    return admins.contains(email.get().toLowerCase(Locale.ROOT)) ? Access.ALLOWED : Access.FORBIDDEN;
  }

  private Optional<String> tokenEmail(HttpServletRequest request, String role) {
    String token = bearerToken(request);
    if (token == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(tokens.email(token));
    } catch (TokenRefusal e) {
      LOG.log(Level.FINE, "{0} token refused: {1}", new Object[] {role, e.getMessage()});
      return Optional.empty();
    }
  }

  private Optional<String> iapEmail(HttpServletRequest request, String role) {
    String assertion = request.getHeader(IapAssertionVerifier.HEADER);
    if (assertion == null || assertion.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(iap.email(assertion.strip()));
    } catch (TokenRefusal e) {
      LOG.log(Level.FINE, "{0} IAP assertion refused: {1}", new Object[] {role, e.getMessage()});
      return Optional.empty();
    }
  }

  private static String bearerToken(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization == null || authorization.length() <= 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = authorization.substring(7).strip();
    return token.isEmpty() ? null : token;
  }

  /** What {@code --auth google,iap} and their flags configure. */
  public static final class Builder {
    public static final String GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v3/certs";
    public static final String IAP_CERTS_URL = "https://www.gstatic.com/iap/verify/public_key-jwk";
    public static final String TOKEN_INFO_URL = "https://oauth2.googleapis.com/tokeninfo";

    private boolean googleTokens;
    private String googleAudience;
    private String iapAudience;
    private Set<String> admins = Set.of();
    private String googleCertsUrl = GOOGLE_CERTS_URL;
    private String iapCertsUrl = IAP_CERTS_URL;
    private String tokenInfoUrl = TOKEN_INFO_URL;
    private Duration timeout = Duration.ofSeconds(10);
    private Duration minKeyRefreshInterval = Duration.ofSeconds(30);
    private final int maxCachedAccessTokens = 10_000;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Agents (and, without IAP, end users) authenticate with a Google token. ID tokens are accepted
     * only for {@code audience}; null accepts access tokens alone.
     */
    public Builder googleTokens(String audience) {
      this.googleTokens = true;
      this.googleAudience = audience == null || audience.isEmpty() ? null : audience;
      return this;
    }

    /** End users (and, without Google tokens, agents) come through IAP, whose assertions are for {@code audience}. */
    public Builder iap(String audience) {
      if (!IAP_AUDIENCE.matcher(audience).matches()) {
        throw new IllegalArgumentException("--iap-audience must be /projects/NUMBER/global/backendServices/ID"
            + " or /projects/NUMBER/apps/PROJECT_ID, not \"" + audience + "\"");
      }
      this.iapAudience = audience;
      return this;
    }

    /** The emails that may use the admin API. */
    public Builder admins(Set<String> emails) {
      for (String email : emails) {
        if (!email.matches("[^@\\s]+@[^@\\s]+")) {
          throw new IllegalArgumentException("--admins: \"" + email + "\" is not an email address");
        }
      }
      this.admins = emails.stream().map(e -> e.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
      return this;
    }

    public Builder googleCertsUrl(String url) {
      this.googleCertsUrl = httpUrl(url, "--google-certs-url");
      return this;
    }

    public Builder iapCertsUrl(String url) {
      this.iapCertsUrl = httpUrl(url, "--iap-certs-url");
      return this;
    }

    public Builder tokenInfoUrl(String url) {
      this.tokenInfoUrl = httpUrl(url, "--google-tokeninfo-url");
      return this;
    }

    /** Fetch keys anew for an unknown key at most this often. */
    public Builder minKeyRefreshInterval(Duration interval) {
      this.minKeyRefreshInterval = interval;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    public GoogleIdentity build() {
      if (!googleTokens && iapAudience == null) {
        throw new IllegalArgumentException("Google identities need Google tokens, IAP, or both");
      }
      return new GoogleIdentity(this);
    }

    private static String httpUrl(String url, String flag) {
      URI uri;
      try {
        uri = URI.create(url);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(flag + " is not a URL: \"" + url + "\"");
      }
      if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new IllegalArgumentException(flag + " must be an http(s) URL, not \"" + url + "\"");
      }
      return url;
    }
  }
}
