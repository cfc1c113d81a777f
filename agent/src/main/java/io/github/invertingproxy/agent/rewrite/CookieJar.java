package io.github.invertingproxy.agent.rewrite;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The cookies a backend set for one session, kept by the agent instead of the browser: stored from
 * {@code Set-Cookie} as RFC 6265 section 5.3 says (domain, path, expiry; {@code Max-Age} wins over
 * {@code Expires}) and chosen for a request as section 5.4 says. Bounded: at most
 * {@value #MAX_COOKIES} cookies of at most {@value #MAX_COOKIE_CHARS} characters each.
 */
final class CookieJar {
  static final int MAX_COOKIES = 100;
  static final int MAX_COOKIE_CHARS = 4096;

  private static final List<DateTimeFormatter> DATE_FORMATS = List.of(
      DateTimeFormatter.RFC_1123_DATE_TIME,
      DateTimeFormatter.ofPattern("EEE, dd-MMM-yyyy HH:mm:ss zzz", Locale.ROOT),
      DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss zzz", Locale.ROOT),
      DateTimeFormatter.ofPattern("EEE MMM d HH:mm:ss yyyy", Locale.ROOT).withZone(ZoneOffset.UTC));

  private final List<Cookie> cookies = new ArrayList<>();

  /**
   * Stores the cookies of {@code Set-Cookie} values received for a request to {@code host} and
   * {@code path}; a cookie that is already expired deletes the one it names.
   */
  synchronized void store(String host, String path, List<String> setCookies, Instant now) {
    for (String setCookie : setCookies) {
      Cookie cookie = parse(setCookie, host.toLowerCase(Locale.ROOT), path, now);
      if (cookie == null) {
        continue;
      }
      cookies.removeIf(c -> c.name.equals(cookie.name) && c.domain.equals(cookie.domain) && c.path.equals(cookie.path));
      if (cookie.expires != null && !cookie.expires.isAfter(now)) {
        continue;
      }
      cookies.add(cookie);
      if (cookies.size() > MAX_COOKIES) {
        cookies.remove(0); // the oldest
      }
    }
  }

  /** The {@code name=value} pairs to send with a request to {@code host} and {@code path}, in RFC order. */
  synchronized List<String> cookiesFor(String host, String path, Instant now) {
    String h = host.toLowerCase(Locale.ROOT);
    List<Cookie> matching = new ArrayList<>();
    for (Iterator<Cookie> it = cookies.iterator(); it.hasNext(); ) {
      Cookie c = it.next();
      if (c.expires != null && !c.expires.isAfter(now)) {
        it.remove();
      } else if (domainMatches(h, c) && pathMatches(path, c.path)) {
        matching.add(c);
      }
    }
    // Longer paths first; among equal paths, the earlier stored first (the list keeps storing order).
    matching.sort(Comparator.comparingInt((Cookie c) -> c.path.length()).reversed());
    List<String> pairs = new ArrayList<>(matching.size());
    for (Cookie c : matching) {
      pairs.add(c.name + "=" + c.value);
    }
    return pairs;
  }

  synchronized int size() {
    return cookies.size();
  }

  private static Cookie parse(String setCookie, String host, String requestPath, Instant now) {
    if (setCookie.length() > MAX_COOKIE_CHARS) {
      return null;
    }
    String[] parts = setCookie.split(";");
    int eq = parts[0].indexOf('=');
    if (eq < 0) {
      return null;
    }
    String name = parts[0].substring(0, eq).trim();
    String value = parts[0].substring(eq + 1).trim();
    if (name.isEmpty()) {
      return null;
    }
    Instant expires = null;
    Instant maxAgeExpires = null;
    String domain = null;
    String path = null;
    for (int i = 1; i < parts.length; i++) {
      String attribute = parts[i];
      int aeq = attribute.indexOf('=');
      String key = (aeq < 0 ? attribute : attribute.substring(0, aeq)).trim().toLowerCase(Locale.ROOT);
      String attributeValue = aeq < 0 ? "" : attribute.substring(aeq + 1).trim();
      switch (key) {
        case "expires" -> {
          Instant parsed = parseDate(attributeValue);
          if (parsed != null) {
            expires = parsed;
          }
        }
        case "max-age" -> {
          try {
            long seconds = Long.parseLong(attributeValue);
            maxAgeExpires = seconds <= 0 ? Instant.MIN : now.plus(Duration.ofSeconds(Math.min(seconds, 400L * 86400)));
          } catch (NumberFormatException e) {
            // Ignored, as RFC 6265 5.2.2 says.
          }
        }
        case "domain" -> {
          String d = attributeValue.startsWith(".") ? attributeValue.substring(1) : attributeValue;
          if (!d.isEmpty()) {
            domain = d.toLowerCase(Locale.ROOT);
          }
        }
        case "path" -> path = attributeValue.startsWith("/") ? attributeValue : null;
        default -> {
          // Secure, HttpOnly and SameSite concern the browser's channel; the agent sends every cookie.
        }
      }
    }
    boolean hostOnly = domain == null;
    if (hostOnly) {
      domain = host;
    } else if (!host.equals(domain) && !(host.endsWith("." + domain) && !isIpAddress(host))) {
      return null; // a backend may not set cookies for another site
    }
    return new Cookie(name, value, domain, hostOnly, path == null ? defaultPath(requestPath) : path,
        maxAgeExpires != null ? maxAgeExpires : expires);
  }

  private static Instant parseDate(String text) {
    for (DateTimeFormatter format : DATE_FORMATS) {
      try {
        return format.parse(text, Instant::from);
      } catch (DateTimeParseException e) {
        // Try the next format.
      }
    }
    return null;
  }

  /** RFC 6265 5.1.4: the request path up to, not including, its last {@code /}; "/" at the top. */
  static String defaultPath(String requestPath) {
    if (requestPath == null || !requestPath.startsWith("/")) {
      return "/";
    }
    int last = requestPath.lastIndexOf('/');
    return last == 0 ? "/" : requestPath.substring(0, last);
  }

  private static boolean domainMatches(String host, Cookie c) {
    if (c.hostOnly) {
      return host.equals(c.domain);
    }
    return host.equals(c.domain) || (host.endsWith("." + c.domain) && !isIpAddress(host));
  }

  static boolean pathMatches(String requestPath, String cookiePath) {
    if (requestPath.equals(cookiePath)) {
      return true;
    }
    return requestPath.startsWith(cookiePath)
        && (cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length()) == '/');
  }

  private static boolean isIpAddress(String host) {
    return host.startsWith("[") || host.chars().allMatch(ch -> ch == '.' || (ch >= '0' && ch <= '9'));
  }

  private record Cookie(String name, String value, String domain, boolean hostOnly, String path, Instant expires) {}
}
