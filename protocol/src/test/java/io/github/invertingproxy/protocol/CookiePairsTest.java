package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;

import java.util.Set;
import org.junit.Test;

public class CookiePairsTest {
  private static final Set<String> LOGIN = Set.of("SACSID", "ACSID");

  @Test
  public void onlyTheNamedPairsAreRemovedAndTheRestKeepTheirOrder() {
    Headers headers = Headers.of("Host", "x", "Cookie", "a=1; SACSID=secret;b=2 ; ACSID=old", "X-After", "y");
    assertEquals(Headers.of("Host", "x", "Cookie", "a=1; b=2", "X-After", "y"), CookiePairs.without(headers, LOGIN));
  }

  @Test
  public void aCookieFieldLeftEmptyIsDroppedAndOthersStay() {
    Headers headers = Headers.of("Cookie", "SACSID=secret", "Cookie", "theme=dark");
    assertEquals(Headers.of("Cookie", "theme=dark"), CookiePairs.without(headers, LOGIN));
  }

  @Test
  public void namesAreCaseSensitiveAndUntouchedHeadersAreKeptAsTheyWere() {
    Headers headers = Headers.of("Cookie", "sacsid=mine;  acsid=also-mine");
    assertSame(headers, CookiePairs.without(headers, LOGIN));
  }
}
