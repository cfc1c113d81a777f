package io.github.invertingproxy.core.admin;

import io.github.invertingproxy.core.PlainText;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import javax.servlet.FilterChain;
import javax.servlet.ServletException;
import javax.servlet.http.HttpFilter;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Keeps pages in an administrator's browser from driving the admin API with the browser's ambient
 * credentials (a sign-in cookie, or no credentials at all where authentication is off). A backend's
 * page served through the proxy runs in that browser, and may share the API's site though never its
 * origin.
 *
 * <ul>
 *   <li>A call without an {@code Authorization: Bearer} header must come from the API's own origin:
 *       an {@code Origin} header, when sent, equals the scheme, host and port the call was addressed
 *       to, and a {@code Sec-Fetch-Site} header, when sent, is {@code same-origin} or {@code none}.
 *       Otherwise 403. Bearer calls are exempt: a browser adds that header to a call from another
 *       origin only after a CORS preflight, which the API never grants.
 *   <li>{@code POST} and {@code PUT} carry {@code Content-Type: application/json}; so does a
 *       {@code DELETE} without a bearer token (it has no body, but the header still makes a browser
 *       ask a preflight first). Otherwise 415. A page can send neither a JSON type nor a
 *       {@code DELETE} to another origin without that preflight.
 * </ul>
 *
 * <p>It relies on the {@link io.github.invertingproxy.core.spi.Identity} contract that a call with a
 * bearer header is judged by its token alone, never by a cookie it also carries.
 */
public final class AdminRequestGuard extends HttpFilter {
  private static final long serialVersionUID = 1L;
  /** Sec-Fetch-Site values of a call that no other origin's page started. */
  private static final Set<String> OWN_FETCH_SITES = Set.of("same-origin", "none");
  private static final Set<String> KNOWN_FETCH_SITES = Set.of("same-origin", "same-site", "cross-site", "none");

  @Override
  protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    boolean bearer = hasBearerToken(request);
    if (!bearer) {
      String refusal = foreignOriginRefusal(request);
      if (refusal != null) {
        PlainText.send(response, 403, refusal);
        return;
      }
    }
    String method = request.getMethod();
    boolean needsJson = method.equals("POST") || method.equals("PUT") || (method.equals("DELETE") && !bearer);
    if (needsJson && !isJson(request.getContentType())) {
      PlainText.send(response, 415, method.equals("DELETE")
          ? "Unsupported media type: a DELETE without a bearer token must carry Content-Type: application/json"
          : "Unsupported media type: the admin API takes " + method + " bodies as Content-Type: application/json");
      return;
    }
    chain.doFilter(request, response);
  }

  /** Why a call with ambient credentials is refused, or null when it comes from the API's own origin. */
  private static String foreignOriginRefusal(HttpServletRequest request) {
    String fetchSite = request.getHeader("Sec-Fetch-Site");
    if (fetchSite != null && !OWN_FETCH_SITES.contains(fetchSite.trim().toLowerCase(Locale.ROOT))) {
      String shown = fetchSite.trim().toLowerCase(Locale.ROOT);
      return "Forbidden: the admin API takes calls by cookie only from its own origin (Sec-Fetch-Site: "
          + (KNOWN_FETCH_SITES.contains(shown) ? shown : "unrecognised") + "); send a bearer token instead";
    }
    String origin = request.getHeader("Origin");
    if (origin != null && !isOwnOrigin(origin.trim(), request)) {
      return "Forbidden: the admin API takes calls by cookie only from its own origin, "
          + ownOrigin(request) + "; send a bearer token instead";
    }
    return null;
  }

  private static boolean isOwnOrigin(String origin, HttpServletRequest request) {
    URI uri;
    try {
      uri = new URI(origin);
    } catch (URISyntaxException e) {
      return false; // includes "null", the origin of sandboxed and privacy-sensitive contexts
    }
    if (uri.getScheme() == null || uri.getHost() == null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()) {
      return false;
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    return scheme.equals(request.getScheme().toLowerCase(Locale.ROOT))
        && unbracketed(uri.getHost()).equalsIgnoreCase(unbracketed(request.getServerName()))
        && effectivePort(scheme, uri.getPort()) == effectivePort(scheme, request.getServerPort());
  }

  private static String ownOrigin(HttpServletRequest request) {
    String scheme = request.getScheme().toLowerCase(Locale.ROOT);
    String host = request.getServerName();
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    int port = request.getServerPort();
    boolean defaultPort = port <= 0 || effectivePort(scheme, -1) == port;
    return scheme + "://" + host + (defaultPort ? "" : ":" + port);
  }

  private static int effectivePort(String scheme, int port) {
    if (port > 0) {
      return port;
    }
    return scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
  }

  private static String unbracketed(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semicolon = contentType.indexOf(';');
    String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
    return mediaType.equalsIgnoreCase("application/json");
  }

  private static boolean hasBearerToken(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    return authorization != null && authorization.length() > 7
        && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
  }
}
