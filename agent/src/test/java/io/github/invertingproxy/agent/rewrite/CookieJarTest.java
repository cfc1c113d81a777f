package io.github.invertingproxy.agent.rewrite;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.Test;

public class CookieJarTest {
  private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");
  private final CookieJar jar = new CookieJar();

  @Test
  public void aCookieWithoutAttributesGoesBackToItsHostUnderItsDefaultPath() {
    jar.store("app.example.com", "/notebooks/tree", List.of("a=1"), NOW);

    assertEquals(List.of("a=1"), jar.cookiesFor("app.example.com", "/notebooks/other", NOW));
    assertEquals(List.of(), jar.cookiesFor("app.example.com", "/", NOW));
    assertEquals(List.of(), jar.cookiesFor("other.example.com", "/notebooks/x", NOW));
  }

  @Test
  public void aPathMatchesOnlyAtSegmentBoundaries() {
    jar.store("h", "/", List.of("a=1; Path=/docs"), NOW);

    assertEquals(List.of("a=1"), jar.cookiesFor("h", "/docs", NOW));
    assertEquals(List.of("a=1"), jar.cookiesFor("h", "/docs/page", NOW));
    assertEquals(List.of(), jar.cookiesFor("h", "/docsearch", NOW));
  }

  @Test
  public void aDomainCookieReachesSubdomainsButAHostOnlyCookieDoesNot() {
    jar.store("www.example.com", "/", List.of("wide=1; Domain=.example.com; Path=/", "narrow=2; Path=/"), NOW);

    assertEquals(List.of("wide=1"), jar.cookiesFor("api.example.com", "/", NOW));
    assertEquals(List.of("wide=1", "narrow=2"), jar.cookiesFor("www.example.com", "/", NOW));
  }

  @Test
  public void aCookieForAnotherSiteIsRefused() {
    jar.store("www.example.com", "/", List.of("evil=1; Domain=other.org; Path=/"), NOW);

    assertEquals(0, jar.size());
  }

  @Test
  public void aLaterCookieWithTheSameNameDomainAndPathReplacesTheFirst() {
    jar.store("h", "/", List.of("a=1; Path=/", "a=2; Path=/"), NOW);

    assertEquals(List.of("a=2"), jar.cookiesFor("h", "/", NOW));
  }

  @Test
  public void maxAgeZeroDeletesACookie() {
    jar.store("h", "/", List.of("a=1; Path=/"), NOW);
    jar.store("h", "/", List.of("a=gone; Path=/; Max-Age=0"), NOW);

    assertEquals(List.of(), jar.cookiesFor("h", "/", NOW));
  }

  @Test
  public void aCookieIsNotSentAfterItExpires() {
    jar.store("h", "/", List.of("short=1; Path=/; Max-Age=60", "dated=2; Path=/; Expires=Wed, 01 May 2024 13:00:00 GMT"),
        NOW);

    assertEquals(List.of("short=1", "dated=2"), jar.cookiesFor("h", "/", NOW.plusSeconds(59)));
    assertEquals(List.of("dated=2"), jar.cookiesFor("h", "/", NOW.plusSeconds(61)));
    assertEquals(List.of(), jar.cookiesFor("h", "/", NOW.plus(Duration.ofHours(2))));
  }

  @Test
  public void maxAgeWinsOverExpires() {
    jar.store("h", "/", List.of("a=1; Path=/; Expires=Wed, 01 May 2024 11:00:00 GMT; Max-Age=600"), NOW);

    assertEquals(List.of("a=1"), jar.cookiesFor("h", "/", NOW));
  }

  @Test
  public void longerPathsComeFirst() {
    jar.store("h", "/", List.of("top=1; Path=/", "deep=2; Path=/a/b"), NOW);

    assertEquals(List.of("deep=2", "top=1"), jar.cookiesFor("h", "/a/b/c", NOW));
  }

  @Test
  public void theJarHoldsABoundedNumberOfCookies() {
    for (int i = 0; i < CookieJar.MAX_COOKIES + 20; i++) {
      jar.store("h", "/", List.of("c" + i + "=v; Path=/"), NOW);
    }

    assertEquals(CookieJar.MAX_COOKIES, jar.size());
    assertTrue(jar.cookiesFor("h", "/", NOW).contains("c" + (CookieJar.MAX_COOKIES + 19) + "=v"));
  }
}
