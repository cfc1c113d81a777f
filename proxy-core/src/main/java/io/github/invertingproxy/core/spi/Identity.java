package io.github.invertingproxy.core.spi;

import io.github.invertingproxy.protocol.Headers;
import java.io.IOException;
import java.util.Optional;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** Who is calling: an end user, an agent, or an administrator. */
public interface Identity {
  /** What an administrator-only call may do. */
  enum Access { ALLOWED, UNAUTHENTICATED, FORBIDDEN }

  /**
   * The end user's email; {@code Optional.of("")} for an anonymous user where authentication is off
   * (who is routed to {@code allUsers} backends only); empty when the caller must authenticate first.
   */
  Optional<String> endUser(HttpServletRequest request);

  /** Answers a caller that {@link #endUser} did not accept: 401, or a redirect to a login page. */
  void challengeEndUser(HttpServletRequest request, HttpServletResponse response) throws IOException;

  /** The agent's account, from its credentials; empty when they are missing or not accepted. */
  Optional<AgentAccount> agentAccount(HttpServletRequest request);

  /**
   * Whether the caller may use the admin API. A call that carries an {@code Authorization: Bearer}
   * header is judged by that token alone, never by a cookie it also carries: the admin API takes
   * bearer calls from any origin, and cookie calls only from its own.
   */
  Access adminAccess(HttpServletRequest request);

  /**
   * An end user's request {@code headers} without the credentials that {@link #endUser} consumed:
   * they authenticate the user to this proxy, so they never reach the agent or the backend. Each
   * identity removes exactly its own (a bearer token, its login cookies); by default there are none.
   */
  default Headers withoutOwnCredentials(Headers headers) {
    return headers;
  }
}
