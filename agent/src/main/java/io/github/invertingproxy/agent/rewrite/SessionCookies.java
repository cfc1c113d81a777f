package io.github.invertingproxy.agent.rewrite;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --session-cookie-name}: the agent keeps the cookies the backend sets in a server-side
 * session and gives the browser one session cookie instead, as the original agent does. A request
 * carrying the session cookie gets the session's cookies in its place.
 *
 * <p>Unlike the original, a session is created only by the agent (an unknown or expired session id
 * from a browser starts no session, so no one can choose another's id or flush the cache with made-up
 * ones), and a session serves only the end user it was created for. At most {@code limit} sessions are
 * kept; the least recently used goes first.
 */
public final class SessionCookies {
  private static final DateTimeFormatter COOKIE_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

  private final String cookieName;
  private final Duration timeout;
  private final boolean secure;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Session> sessions;

  /**
   * @param secure whether the session cookie is marked {@code Secure} (not with
   *     {@code --disable-ssl-for-test}, as by the original)
   */
  public SessionCookies(String cookieName, Duration timeout, int limit, boolean secure, Clock clock) {
    this.cookieName = requireNonNull(cookieName, "cookieName");
    this.timeout = requireNonNull(timeout, "timeout");
    this.secure = secure;
    this.clock = requireNonNull(clock, "clock");
    if (limit < 1) {
      throw new IllegalArgumentException("session cookie cache limit must be at least 1, was " + limit);
    }
    this.sessions = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Session> eldest) {
        return size() > limit;
      }
    };
  }

  String cookieName() {
    return cookieName;
  }

  /**
   * Takes the session cookie out of a request and puts the session's cookies in.
   *
   * @param userId the end user the proxy vouches for; a session serves only its own user
   */
  public Restored restore(RequestHead request, String userId) {
    Instant now = clock.instant();
    String host = hostOf(request);
    String path = request.path();
    List<String> kept = new ArrayList<>();
    String sessionId = null;
    for (String header : request.headers().all("Cookie")) {
      for (String pair : header.split(";")) {
        String trimmed = pair.trim();
        if (trimmed.isEmpty()) {
          continue;
        }
        int eq = trimmed.indexOf('=');
        String name = eq < 0 ? trimmed : trimmed.substring(0, eq).trim();
        if (name.equals(cookieName)) {
          sessionId = eq < 0 ? "" : trimmed.substring(eq + 1).trim();
        } else {
          kept.add(trimmed);
        }
      }
    }
    Session session = sessionId == null ? null : find(sessionId, userId, now);
    if (sessionId == null) {
      return new Restored(request, null, host, path, userId);
    }
    if (session != null) {
      kept.addAll(session.jar.cookiesFor(host, path, now));
    }
    List<HeaderField> fields = new ArrayList<>();
    boolean placed = false;
    for (HeaderField f : request.headers()) {
      if (!f.is("Cookie")) {
        fields.add(f);
      } else if (!placed) {
        placed = true;
        if (!kept.isEmpty()) {
          fields.add(new HeaderField("Cookie", String.join("; ", kept)));
        }
      }
    }
    return new Restored(new RequestHead(request.method(), request.target(), Headers.of(fields)), session, host,
        path, userId);
  }

  /**
   * Takes the backend's {@code Set-Cookie} fields out of a response into the session, starting a
   * session (and setting its cookie) when the request had none.
   */
  public ResponseHead intercept(Restored restored, ResponseHead response) {
    List<String> setCookies = response.headers().all("Set-Cookie");
    if (setCookies.isEmpty()) {
      return response;
    }
    Instant now = clock.instant();
    Headers headers = response.headers().without(f -> f.is("Set-Cookie"));
    Session session = restored.session;
    if (session == null) {
      session = new Session(newId(), restored.userId, now.plus(timeout));
      synchronized (sessions) {
        sessions.put(session.id, session);
      }
      headers = headers.plus(new HeaderField("Set-Cookie", sessionCookie(session)));
    }
    session.jar.store(restored.host, restored.path, setCookies, now);
    return new ResponseHead(response.status(), response.reason(), headers);
  }

  public int sessionCount() {
    synchronized (sessions) {
      return sessions.size();
    }
  }

  private Session find(String id, String userId, Instant now) {
    synchronized (sessions) {
      Session s = sessions.get(id);
      if (s == null) {
        return null;
      }
      if (!s.expires.isAfter(now)) {
        sessions.remove(id);
        return null;
      }
      return s.userId.equals(userId) ? s : null;
    }
  }

  private String sessionCookie(Session session) {
    long seconds = Math.max(1, timeout.toSeconds());
    return cookieName + "=" + session.id + "; Path=/; Expires=" + COOKIE_DATE.format(session.expires)
        + "; Max-Age=" + seconds + "; HttpOnly" + (secure ? "; Secure" : "");
  }

  private String newId() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String hostOf(RequestHead request) {
    String host = request.headers().first("Host").orElse("").trim();
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      return end < 0 ? host : host.substring(0, end + 1);
    }
    int colon = host.indexOf(':');
    return colon < 0 ? host : host.substring(0, colon);
  }

  /** A request with its session's cookies in place, and what its response needs to update them. */
  public static final class Restored {
    private final RequestHead request;
    private final Session session;
    private final String host;
    private final String path;
    private final String userId;

    private Restored(RequestHead request, Session session, String host, String path, String userId) {
      this.request = request;
      this.session = session;
      this.host = host;
      this.path = path;
      this.userId = userId;
    }

    public RequestHead request() {
      return request;
    }
  }

  private static final class Session {
    final String id;
    final String userId;
    final Instant expires;
    final CookieJar jar = new CookieJar();

    Session(String id, String userId, Instant expires) {
      this.id = id;
      this.userId = userId;
      this.expires = expires;
    }
  }
}
