package io.github.invertingproxy.server.google;

import static java.util.Objects.requireNonNull;

import com.google.api.client.json.webtoken.JsonWebToken;

/**
 * Who Identity-Aware Proxy let through: IAP signs every request it forwards with an ES256 assertion
 * in {@value #HEADER}, for the audience of its backend service or App Engine app. A request that
 * reached the server without passing IAP has no valid one.
 */
final class IapAssertionVerifier {
  static final String HEADER = "x-goog-iap-jwt-assertion";
  static final String ISSUER = "https://cloud.google.com/iap";

  private final PublishedKeysVerifier keys;

  IapAssertionVerifier(PublishedKeysVerifier keys) {
    this.keys = requireNonNull(keys, "keys");
  }

  /** The email IAP signed in the assertion. */
  String email(String assertion) throws TokenRefusal {
    JsonWebToken.Payload claims = keys.verify(assertion);
    Object email = claims.get("email");
    if (!(email instanceof String) || ((String) email).isEmpty()) {
      throw new TokenRefusal("the IAP assertion carries no email");
    }
    return (String) email;
  }
}
