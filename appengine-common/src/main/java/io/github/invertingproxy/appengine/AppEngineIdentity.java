package io.github.invertingproxy.appengine;

import com.google.appengine.api.oauth.OAuthRequestException;
import com.google.appengine.api.oauth.OAuthService;
import com.google.appengine.api.oauth.OAuthServiceFactory;
import com.google.appengine.api.oauth.OAuthServiceFailureException;
import com.google.appengine.api.users.User;
import com.google.appengine.api.users.UserService;
import com.google.appengine.api.users.UserServiceFactory;
import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.protocol.CookiePairs;
import io.github.invertingproxy.protocol.Headers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Who calls, as App Engine knows it: end users and administrators through the Users API (Google
 * sign-in), agents and API clients through {@link OAuthService} from their bearer token.
 */
public final class AppEngineIdentity implements Identity {
  private static final Logger LOG = Logger.getLogger(AppEngineIdentity.class.getName());

  /** The original agent's token scope, and the email scope that plain user tokens carry. */
  static final String[] SCOPES = {
      "https://www.googleapis.com/auth/cloud-platform",
      "https://www.googleapis.com/auth/userinfo.email",
  };

  /**
   * The cookies that sign a user in to the Users API: {@code SACSID} (HTTPS) and {@code ACSID} on
   * appspot.com, {@code dev_appserver_login} on the local development server.
   */
  static final Set<String> LOGIN_COOKIES = Set.of("SACSID", "ACSID", "dev_appserver_login");

  private final UserService users = UserServiceFactory.getUserService();
  private final OAuthService oauth = OAuthServiceFactory.getOAuthService();

  @Override
  public Optional<String> endUser(HttpServletRequest request) {
    User user = users.getCurrentUser();
    return user == null || user.getEmail() == null || user.getEmail().isEmpty()
        ? Optional.empty() : Optional.of(user.getEmail());
  }

  @Override
  public void challengeEndUser(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String accept = request.getHeader("Accept");
    if (accept != null && accept.contains("text/html")) {
      String query = request.getQueryString();
      String destination = request.getRequestURI() + (query == null ? "" : "?" + query);
      response.sendRedirect(users.createLoginURL(destination));
      return;
    }
    response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
    response.setContentType("text/plain; charset=utf-8");
    response.getOutputStream().write(
        "sign in with a Google account first (open this URL in a browser)\n".getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public Optional<AgentAccount> agentAccount(HttpServletRequest request) {
    if (!hasBearerToken(request)) {
      return Optional.empty();
    }
    try {
      User user = oauth.getCurrentUser(SCOPES);
      if (user == null || user.getEmail() == null || user.getEmail().isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(AgentAccount.of(user.getEmail()));
    } catch (OAuthRequestException e) {
      LOG.log(Level.FINE, "bearer token refused: {0}", e.getMessage());
      return Optional.empty();
    } catch (OAuthServiceFailureException e) {
      LOG.log(Level.WARNING, "OAuth service failed; treating the agent as unauthenticated", e);
      return Optional.empty();
    }
  }

  @Override
  public Access adminAccess(HttpServletRequest request) {
    // A bearer call is judged by its token alone (Identity's contract): the admin API checks the
    // origin of cookie calls only, so a cookie must not stand in for a token that is refused.
    if (hasBearerToken(request)) {
      try {
        if (oauth.isUserAdmin(SCOPES)) {
          return Access.ALLOWED;
        }
      } catch (OAuthRequestException e) {
        LOG.log(Level.FINE, "bearer token refused: {0}", e.getMessage());
      } catch (OAuthServiceFailureException e) {
        LOG.log(Level.WARNING, "OAuth service failed; treating the caller as no administrator", e);
      }
    } else if (users.isUserLoggedIn() && users.isUserAdmin()) {
      return Access.ALLOWED;
    }
    // App Engine answers every non-administrator, signed in or not, with 403.
    return Access.FORBIDDEN;
  }

  /** The Users API's login cookies are this proxy's; the backend's own cookies pass unchanged. */
  @Override
  public Headers withoutOwnCredentials(Headers headers) {
    return CookiePairs.without(headers, LOGIN_COOKIES);
  }

  private static boolean hasBearerToken(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        && authorization.length() > 7;
  }
}
