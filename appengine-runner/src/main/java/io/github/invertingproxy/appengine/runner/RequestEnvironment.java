package io.github.invertingproxy.appengine.runner;

import com.google.appengine.tools.development.LocalEnvironment;

/**
 * The App Engine environment of one request, as the real runtime would set it: the service and the
 * instance that answer it, the signed-in user (from the dev server's login cookie) and, for the
 * OAuth stub, the bearer token the caller sent.
 */
final class RequestEnvironment extends LocalEnvironment {
  /** Where {@link OAuthAccounts} finds the request's bearer token. */
  static final String BEARER_TOKEN_ATTRIBUTE = "io.github.invertingproxy.runner.bearer-token";
  private static final String USER_ID_ATTRIBUTE = "com.google.appengine.api.users.UserService.user_id_key";
  static final String AUTH_DOMAIN = "gmail.com";

  private final String email;
  private final boolean admin;

  RequestEnvironment(String service, int instance, String email, boolean admin, String userId, String bearerToken) {
    super(LocalAppEngine.APP_ID, service, "1", instance, null, null);
    this.email = email;
    this.admin = admin;
    if (userId != null) {
      getAttributes().put(USER_ID_ATTRIBUTE, userId);
    }
    if (bearerToken != null) {
      getAttributes().put(BEARER_TOKEN_ATTRIBUTE, bearerToken);
    }
  }

  @Override
  public String getEmail() {
    return email;
  }

  @Override
  public boolean isLoggedIn() {
    return email != null;
  }

  @Override
  public boolean isAdmin() {
    return email != null && admin;
  }

  @Override
  public String getAuthDomain() {
    return AUTH_DOMAIN;
  }
}
