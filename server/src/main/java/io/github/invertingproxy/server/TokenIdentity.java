package io.github.invertingproxy.server;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.protocol.Headers;
import java.io.IOException;
import java.util.Optional;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** {@code --auth tokens}: callers present a bearer token that the tokens file maps to roles. */
final class TokenIdentity implements Identity {
  private final TokensFile tokens;

  TokenIdentity(TokensFile tokens) {
    this.tokens = requireNonNull(tokens, "tokens");
  }

  @Override
  public Optional<String> endUser(HttpServletRequest request) {
    return grant(request).flatMap(TokensFile.Grant::userEmail);
  }

  @Override
  public void challengeEndUser(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader("WWW-Authenticate", "Bearer realm=\"inverting-proxy\"");
    PlainText.send(response, 401, "Unauthorized: send \"Authorization: Bearer <token>\" with an end-user token");
  }

  @Override
  public Optional<AgentAccount> agentAccount(HttpServletRequest request) {
    return grant(request).flatMap(TokensFile.Grant::agentEmail).map(AgentAccount::of);
  }

  @Override
  public Access adminAccess(HttpServletRequest request) {
    Optional<TokensFile.Grant> grant = grant(request);
    if (grant.isEmpty()) {
      return Access.UNAUTHENTICATED;
    }
    return grant.get().admin() ? Access.ALLOWED : Access.FORBIDDEN;
  }

  /** The bearer token in {@code Authorization} is this proxy's: no part of it is passed on. */
  @Override
  public Headers withoutOwnCredentials(Headers headers) {
    return headers.without(f -> f.is("Authorization"));
  }

  private Optional<TokensFile.Grant> grant(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization == null || authorization.length() <= 7
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    return tokens.lookup(authorization.substring(7).trim());
  }
}
