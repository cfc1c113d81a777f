package io.github.invertingproxy.server.google;

import static java.util.Objects.requireNonNull;

import com.google.api.client.json.webtoken.JsonWebToken;

/**
 * Whose Google token a bearer token is: what agents send to App Engine. A Google-signed ID token
 * (three dot-separated parts) is checked here against Google's published keys and must be for the
 * configured audience; anything else is taken for an OAuth access token and asked of Google's
 * token-info endpoint. Either way the account's email must be verified.
 */
final class GoogleTokenVerifier {
  private final PublishedKeysVerifier idTokens;
  private final TokenInfoEndpoint accessTokens;

  /** @param idTokens null when no ID-token audience is configured: ID tokens are then refused. */
  GoogleTokenVerifier(PublishedKeysVerifier idTokens, TokenInfoEndpoint accessTokens) {
    this.idTokens = idTokens;
    this.accessTokens = requireNonNull(accessTokens, "accessTokens");
  }

  /** The token's verified email. */
  String email(String token) throws TokenRefusal {
    if (!looksSigned(token)) {
      return accessTokens.email(token);
    }
    if (idTokens == null) {
      throw new TokenRefusal("an ID token, but the server has no --google-audience to check it against");
    }
    JsonWebToken.Payload claims = idTokens.verify(token);
    Object email = claims.get("email");
    if (!(email instanceof String) || ((String) email).isEmpty()) {
      throw new TokenRefusal("the ID token carries no email (ask for it with the email scope or format=full)");
    }
    if (!"true".equals(String.valueOf(claims.get("email_verified")))) {
      throw new TokenRefusal("the ID token's email " + email + " is not verified");
    }
    return (String) email;
  }

  private static boolean looksSigned(String token) {
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    return second > 0 && token.indexOf('.', second + 1) < 0;
  }
}
