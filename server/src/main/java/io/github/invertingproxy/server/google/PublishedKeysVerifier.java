package io.github.invertingproxy.server.google;

import static java.util.Objects.requireNonNull;

import com.google.api.client.json.webtoken.JsonWebToken;
import com.google.auth.oauth2.TokenVerifier;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Checks a signed token (a Google ID token, an IAP assertion) against the keys Google publishes at a
 * URL: signature, audience, issuer and expiry, through google-auth-library's {@link TokenVerifier},
 * which keeps the fetched keys for an hour. When a token names a key that the kept set lacks (Google
 * rotated its keys) or the keys could not be fetched, the set is fetched anew, at most once per
 * {@code minRefreshInterval}, so that a stream of forged tokens cannot make us hammer the key URL.
 */
final class PublishedKeysVerifier {
  private final String certificatesUrl;
  private final String audience;
  private final Set<String> issuers;
  private final Duration minRefreshInterval;
  private final Clock clock;
  private volatile TokenVerifier verifier;
  private volatile Instant lastRefresh;

  PublishedKeysVerifier(String certificatesUrl, String audience, Set<String> issuers, Duration minRefreshInterval, Clock clock) {
    this.certificatesUrl = requireNonNull(certificatesUrl, "certificatesUrl");
    this.audience = requireNonNull(audience, "audience");
    this.issuers = Set.copyOf(issuers);
    this.minRefreshInterval = requireNonNull(minRefreshInterval, "minRefreshInterval");
    this.clock = requireNonNull(clock, "clock");
    this.verifier = newVerifier();
    this.lastRefresh = clock.instant();
  }

  /** The token's claims once it passed every check. */
  JsonWebToken.Payload verify(String token) throws TokenRefusal {
    JsonWebToken.Payload payload;
    try {
      payload = verifyOnce(token);
    } catch (KeysMissing e) {
      if (!refreshAllowed()) {
        throw new TokenRefusal(e.getMessage());
      }
      try {
        payload = verifyOnce(token);
      } catch (KeysMissing again) {
        throw new TokenRefusal(again.getMessage());
      }
    }
    // The library checks the issuer only against a single value; Google's ID tokens carry either of two.
    if (!issuers.contains(payload.getIssuer())) {
      throw new TokenRefusal("issued by " + payload.getIssuer() + ", not by " + String.join(" or ", issuers));
    }
    // ... and the expiry only when the token has one.
    if (payload.getExpirationTimeSeconds() == null) {
      throw new TokenRefusal("the token has no expiry (exp)");
    }
    return payload;
  }

  private JsonWebToken.Payload verifyOnce(String token) throws TokenRefusal, KeysMissing {
    try {
      return verifier.verify(token).getPayload();
    } catch (TokenVerifier.VerificationException e) {
      String reason = e.getMessage() == null ? "not accepted" : e.getMessage();
      // "Could not find PublicKey for provided keyId" / "Error fetching PublicKey from certificate location".
      if (reason.contains("PublicKey")) {
        throw new KeysMissing(reason.startsWith("Could not find") ? "signed by a key that " + certificatesUrl + " does not publish"
            : "the keys at " + certificatesUrl + " could not be fetched");
      }
      throw new TokenRefusal(reason.replace("Expected audience does not match", "audience is not " + audience));
    } catch (RuntimeException e) {
      // A malformed token can make the parser throw unchecked exceptions.
      throw new TokenRefusal("not a well-formed signed token");
    }
  }

  private synchronized boolean refreshAllowed() {
    Instant now = clock.instant();
    if (Duration.between(lastRefresh, now).compareTo(minRefreshInterval) < 0) {
      return false;
    }
    lastRefresh = now;
    verifier = newVerifier(); // a new verifier starts with an empty key cache
    return true;
  }

  private TokenVerifier newVerifier() {
    // The issuer is checked above, since there may be two.
    return TokenVerifier.newBuilder().setCertificatesLocation(certificatesUrl).setAudience(audience).build();
  }

  private static final class KeysMissing extends Exception {
    KeysMissing(String message) {
      super(message, null, false, false);
    }
  }
}
