package io.github.invertingproxy.appengine.runner;

import com.google.apphosting.api.ApiProxy;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import javax.servlet.Filter;
import javax.servlet.FilterChain;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletRequest;

/**
 * Gives each request the App Engine environment the real runtime would: API calls are only
 * allowed on a thread that has one, and it carries the signed-in user, taken (as Google's dev
 * server does) from the {@code dev_appserver_login=email:isAdmin:userId} cookie, and the bearer
 * token for {@link OAuthAccounts}.
 */
final class AppEngineEnvironmentFilter implements Filter {
  static final String LOGIN_COOKIE = "dev_appserver_login";

  private final String service;
  private final int instance;

  /** @param instance the instance's number within its service, from 0 */
  AppEngineEnvironmentFilter(String service, int instance) {
    this.service = service;
    this.instance = instance;
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest http = (HttpServletRequest) request;
    String[] login = login(http);
    ApiProxy.Environment previous = ApiProxy.getCurrentEnvironment();
    ApiProxy.setEnvironmentForCurrentThread(new RequestEnvironment(service, instance,
        login == null ? null : login[0], login != null && Boolean.parseBoolean(login[1]),
        login == null ? null : login[2], bearerToken(http)));
    try {
      chain.doFilter(request, response);
    } finally {
      if (previous == null) {
        ApiProxy.clearEnvironmentForCurrentThread();
      } else {
        ApiProxy.setEnvironmentForCurrentThread(previous);
      }
    }
  }

  /** {email, isAdmin, userId} from the login cookie, or null when there is none or it is unusable. */
  private static String[] login(HttpServletRequest request) {
    Cookie[] cookies = request.getCookies();
    if (cookies == null) {
      return null;
    }
    for (Cookie c : cookies) {
      if (LOGIN_COOKIE.equals(c.getName()) && c.getValue() != null) {
        String value = URLDecoder.decode(c.getValue(), StandardCharsets.UTF_8);
        String[] parts = value.split(":", -1);
        if (parts.length >= 1 && parts[0].contains("@")) {
          return new String[] {parts[0], parts.length > 1 ? parts[1] : "false", parts.length > 2 ? parts[2] : ""};
        }
      }
    }
    return null;
  }

  private static String bearerToken(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return authorization.substring(7).trim();
  }
}
