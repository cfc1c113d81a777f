package io.github.invertingproxy.agent;

import static io.github.invertingproxy.agent.ForwardingAgentTest.bytes;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.rewrite.SessionCookies;
import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** --session-cookie-name: through the whole agent, then the rules one by one. */
public class SessionCookiesTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final Pattern SESSION_COOKIE = Pattern.compile(
      "sid=([A-Za-z0-9_-]{43}); Path=/; Expires=[^;]+ GMT; Max-Age=43200; HttpOnly; Secure");

  private ScriptedProxy proxy;
  private RawBackend backend;
  private ForwardingAgent agent;

  @Before
  public void startAll() throws IOException {
    proxy = ScriptedProxy.start();
    backend = new RawBackend();
    agent = ForwardingAgent.builder()
        .proxyUrl(proxy.url())
        .backendId("backend-1")
        .target(backend.hostAndPort())
        .sessionCookies("sid", Duration.ofHours(12), 1000)
        .shutdownGracePeriod(Duration.ofMillis(500))
        .build();
    agent.start();
  }

  @After
  public void stopAll() throws IOException {
    agent.close();
    proxy.close();
    backend.close();
  }

  private String startSession() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n"
        + "Content-Length: 0\r\n\r\n");
    proxy.enqueue("login", bytes("POST /login HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 0\r\n\r\n"));
    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("login", WAIT);
    backend.awaitRequest(WAIT);
    List<String> setCookies = posted.head.headers().all("Set-Cookie");
    assertEquals(setCookies.toString(), 1, setCookies.size());
    Matcher m = SESSION_COOKIE.matcher(setCookies.get(0));
    assertTrue(setCookies.get(0), m.matches());
    backend.respondWith(RawBackend.OK);
    return m.group(1);
  }

  @Test
  public void theBrowserGetsOneSessionCookieInsteadOfTheBackendsCookies() throws Exception {
    String id = startSession();

    assertEquals(43, id.length());
  }

  @Test
  public void aRequestWithTheSessionCookieCarriesTheSessionsCookiesInstead() throws Exception {
    String id = startSession();
    proxy.enqueue("r2", bytes("GET /tree HTTP/1.1\r\nHost: app.example.com\r\nCookie: theme=dark; sid=" + id
        + "\r\n\r\n"));

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals(List.of("theme=dark; a=1; b=2"), received.head().headers().all("Cookie"));
  }

  @Test
  public void aSessionIdTheAgentDidNotIssueIsDroppedAndStartsNothing() throws Exception {
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: app.example.com\r\nCookie: sid=made-up\r\n\r\n"));

    RawBackend.Received received = backend.awaitRequest(WAIT);
    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertFalse(received.rawText(), received.head().headers().contains("Cookie"));
    assertFalse(posted.head.headers().contains("Set-Cookie"));
  }

  @Test
  public void aSessionServesOnlyTheUserItWasStartedFor() throws Exception {
    String id = startSession();
    proxy.enqueue(new ScriptedProxy.Queued("r2", bytes("GET / HTTP/1.1\r\nHost: app.example.com\r\nCookie: sid="
        + id + "\r\n\r\n"), "mallory@example.com", true, 0));
    proxy.list("r2");

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertFalse(received.rawText(), received.head().headers().contains("Cookie"));
  }

  // The rules on their own, with a clock the test moves.

  private final MovableClock clock = new MovableClock();

  private static RequestHead request(String cookie) {
    Headers headers = cookie == null ? Headers.of("Host", "h") : Headers.of("Host", "h", "Cookie", cookie);
    return new RequestHead("GET", "/", headers);
  }

  private static ResponseHead settingCookie(String setCookie) {
    return new ResponseHead(200, "OK", Headers.of("Set-Cookie", setCookie));
  }

  private static String sessionIdOf(ResponseHead head) {
    String value = head.headers().first("Set-Cookie").orElseThrow();
    return value.substring(value.indexOf('=') + 1, value.indexOf(';'));
  }

  @Test
  public void aSessionEndsAfterTheTimeout() {
    SessionCookies sessions = new SessionCookies("sid", Duration.ofMinutes(10), 10, true, clock);
    String id = sessionIdOf(sessions.intercept(sessions.restore(request(null), "u"), settingCookie("a=1; Path=/")));

    clock.advance(Duration.ofMinutes(11));

    assertEquals(List.of(), sessions.restore(request("sid=" + id), "u").request().headers().all("Cookie"));
  }

  @Test
  public void theLeastRecentlyUsedSessionIsDroppedAtTheLimit() {
    SessionCookies sessions = new SessionCookies("sid", Duration.ofHours(1), 2, true, clock);
    String first = sessionIdOf(sessions.intercept(sessions.restore(request(null), "u"), settingCookie("n=1; Path=/")));
    String second = sessionIdOf(sessions.intercept(sessions.restore(request(null), "u"), settingCookie("n=2; Path=/")));
    sessions.restore(request("sid=" + first), "u"); // first is now the more recently used

    sessions.intercept(sessions.restore(request(null), "u"), settingCookie("n=3; Path=/"));

    assertEquals(2, sessions.sessionCount());
    assertEquals(List.of("n=1"), sessions.restore(request("sid=" + first), "u").request().headers().all("Cookie"));
    assertEquals(List.of(), sessions.restore(request("sid=" + second), "u").request().headers().all("Cookie"));
  }

  @Test
  public void newCookiesForAKnownSessionJoinItWithoutANewSessionCookie() {
    SessionCookies sessions = new SessionCookies("sid", Duration.ofHours(1), 10, false, clock);
    String id = sessionIdOf(sessions.intercept(sessions.restore(request(null), "u"), settingCookie("a=1; Path=/")));

    ResponseHead second = sessions.intercept(sessions.restore(request("sid=" + id), "u"), settingCookie("b=2; Path=/"));

    assertFalse(second.headers().contains("Set-Cookie"));
    assertEquals(List.of("a=1; b=2"), sessions.restore(request("sid=" + id), "u").request().headers().all("Cookie"));
  }

  @Test
  public void eachNewSessionGetsAnUnguessableId() {
    SessionCookies sessions = new SessionCookies("sid", Duration.ofHours(1), 10, false, clock);

    String one = sessionIdOf(sessions.intercept(sessions.restore(request(null), "u"), settingCookie("a=1")));
    String two = sessionIdOf(sessions.intercept(sessions.restore(request(null), "u"), settingCookie("a=1")));

    assertNotEquals(one, two);
    assertEquals(43, one.length()); // 256 random bits
  }

  private static final class MovableClock extends Clock {
    private Instant now = Instant.parse("2024-05-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
