package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class RequestTargetTest {
  private static String normalised(String rawPath) throws Exception {
    return RequestTarget.of(rawPath, null).path();
  }

  private static String refusal(String rawPath) {
    return assertThrows(rawPath, RequestTarget.RefusedException.class, () -> RequestTarget.of(rawPath, null))
        .getMessage();
  }

  @Test
  public void aPlainPathIsKeptAsItIs() throws Exception {
    assertEquals("/", normalised("/"));
    assertEquals("/a/b/", normalised("/a/b/"));
    assertEquals("/a//b", normalised("/a//b"));
    assertEquals("/files/caf%C3%A9;v=1", normalised("/files/caf%C3%A9;v=1"));
  }

  @Test
  public void singleDotSegmentsAreRemoved() throws Exception {
    assertEquals("/a/b", normalised("/a/./b"));
    assertEquals("/a/", normalised("/a/."));
    assertEquals("/", normalised("/."));
  }

  @Test
  public void doubleDotSegmentsRemoveTheSegmentBefore() throws Exception {
    assertEquals("/secret.txt", normalised("/public/../secret.txt"));
    assertEquals("/a/", normalised("/a/b/.."));
    assertEquals("/a/c", normalised("/a/b/../c"));
    assertEquals("/", normalised("/a/.."));
  }

  @Test
  public void encodedDotsAreDecodedAndThenRemovedAsDotSegments() throws Exception {
    assertEquals("/secret.txt", normalised("/public/%2e%2e/secret.txt"));
    assertEquals("/secret.txt", normalised("/public/%2E%2E/secret.txt"));
    assertEquals("/secret.txt", normalised("/public/.%2e/secret.txt"));
    assertEquals("/secret.txt", normalised("/public/%2e./secret.txt"));
    assertEquals("/public/secret.txt", normalised("/public/%2e/secret.txt"));
  }

  @Test
  public void unreservedCharactersAreDecoded() throws Exception {
    assertEquals("/a/~user", normalised("/a/%7Euser"));
    assertEquals("/a/~user", normalised("/a/%7euser"));
    assertEquals("/A-z_0.9", normalised("/%41%2D%7A%5F%30%2E%39"));
  }

  @Test
  public void otherEscapesAreKeptExactlyAsSent() throws Exception {
    assertEquals("/a%20b", normalised("/a%20b"));
    assertEquals("/%3f%23%25%3B%c3%a9", normalised("/%3f%23%25%3B%c3%a9"));
    assertEquals("/%252e%252e/x", normalised("/%252e%252e/x"));
  }

  @Test
  public void theQueryIsKeptUnchanged() throws Exception {
    RequestTarget t = RequestTarget.of("/a/./b", "next=/../x&q=%2e%2e%2f");
    assertEquals("/a/b", t.path());
    assertEquals("next=/../x&q=%2e%2e%2f", t.query());
    assertEquals("/a/b?next=/../x&q=%2e%2e%2f", t.originForm());
    assertEquals("/a/b?", RequestTarget.of("/a/b", "").originForm());
    assertNull(RequestTarget.of("/a", null).query());
    assertEquals("/a", RequestTarget.of("/a", null).originForm());
  }

  @Test
  public void climbingAboveTheRootIsRefused() {
    for (String path : new String[] {"/..", "/../secret.txt", "/a/../../b", "/%2e%2e/x", "/.%2E/x", "/a/./../.."}) {
      assertEquals(path, "the path climbs above the root with ..", refusal(path));
    }
  }

  @Test
  public void anEncodedSlashIsRefused() {
    assertTrue(refusal("/public/..%2fsecret.txt").contains("encoded slash (%2f)"));
    assertTrue(refusal("/public/%2e%2e%2fsecret.txt").contains("encoded slash (%2f)"));
    assertTrue(refusal("/public/a%2Fb").contains("encoded slash (%2F)"));
  }

  @Test
  public void aBackslashRawOrEncodedIsRefused() {
    assertTrue(refusal("/public/..\\secret.txt").contains("backslash"));
    assertTrue(refusal("/public/..%5csecret.txt").contains("backslash (%5c)"));
    assertTrue(refusal("/public/..%5Csecret.txt").contains("backslash (%5C)"));
  }

  @Test
  public void nulAndOtherControlCharactersAreRefused() {
    assertEquals("the path has a NUL character (%00)", refusal("/a%00.txt"));
    assertEquals("the path has a NUL character", refusal("/a\0.txt"));
    assertEquals("the path has a control character (%0a)", refusal("/a%0a"));
    assertEquals("the path has a control character (%0D)", refusal("/a%0D"));
    assertEquals("the path has a control character (%7F)", refusal("/a%7F"));
    assertEquals("the path has a control character (0x09)", refusal("/a\tb"));
    assertEquals("the path has a control character (0x7F)", refusal("/a\u007fb"));
  }

  @Test
  public void aDotSegmentWithParametersIsRefused() {
    assertTrue(refusal("/public/..;/secret.txt").contains("dot segment with parameters (..;)"));
    assertTrue(refusal("/public/%2e%2e;x=1/secret.txt").contains("(..;)"));
    assertTrue(refusal("/public/.;/x").contains("(.;)"));
  }

  @Test
  public void aMalformedEscapeIsRefused() {
    for (String path : new String[] {"/a%", "/a%2", "/a%zz", "/a%g1", "/a%\u0661\u0661"}) {
      assertTrue(path, refusal(path).startsWith("the path has a malformed percent-encoding"));
    }
  }

  @Test
  public void aCharacterOutsideAsciiIsRefusedUnlessPercentEncoded() throws Exception {
    assertEquals("the path has a character outside ASCII (U+00E9) that is not percent-encoded", refusal("/caf\u00e9"));
    assertEquals("the path has a character outside ASCII (U+FFFD) that is not percent-encoded", refusal("/caf\ufffd"));
    assertEquals("/caf%C3%A9", normalised("/caf%C3%A9"));
  }

  @Test
  public void aTargetThatIsNotAPathIsRefused() {
    assertEquals("the request target must be a path starting with /", refusal("*"));
    assertEquals("the request target must be a path starting with /", refusal(""));
  }

  @Test
  public void everyReasonIsOneLine() {
    for (String path : new String[] {"*", "/..", "/%2f", "/\\", "/%00", "/%0a", "/..;", "/%", "/\u00e9"}) {
      assertTrue(path, !refusal(path).contains("\n"));
    }
  }
}
