package io.github.invertingproxy.commandline.logging;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;

import org.junit.Test;

/** Log lines lose every credential, in each form the server's and agent's libraries print one. */
public class CredentialRedactionTest {
  private static final String SECRET = "SECRETTOKEN123456";

  private static void assertClean(String line) {
    String redacted = CredentialRedaction.redact(line);
    assertFalse(redacted, redacted.contains(SECRET));
    assertFalse(redacted, redacted.contains("N123456"));
  }

  @Test
  public void headerLinesKeepTheirNameAndLoseTheirValue() {
    assertEquals("Authorization: [redacted]\nAccept: */*\nCookie: [redacted]\n",
        CredentialRedaction.redact("Authorization: Bearer " + SECRET + "\nAccept: */*\nCookie: a=1; b=" + SECRET + "\n"));
    // A value runs to the line's end: a cookie's own commas (Expires=Thu, 01 Jan ...) are no end.
    assertEquals("set-cookie=[redacted]", CredentialRedaction.redact("set-cookie=s=" + SECRET + "; Expires=Thu, 01 Jan"));
  }

  @Test
  public void everyFormALibraryPrintsAHeaderInIsRedacted() {
    assertClean("HttpParser: HEADER:IN_VALUE --> FIELD(Authorization: Bearer " + SECRET + ")");
    assertClean("parsedHeader(Cookie: sess=" + SECRET + ") header=Cookie, headerString=[Cookie], valueString=[sess="
        + SECRET + "]");
    assertClean("Proxy-Authorization: Basic " + SECRET);
    assertClean("X-Inverting-Proxy-VM-ID: " + SECRET);
    assertClean("{Authorization=[Bearer " + SECRET + "], Host=[x]}");
    assertClean("filled 150 DirectByteBuffer@1[p=0,l=150]={<<<GET /x HTTP/1.1\\r\\nHost: 12...sess=COOKIEN123456\\r\\n>>>\\x00}");
    assertClean("calling with bearer " + SECRET);
    assertClean("GET / HTTP/1.1\\r\\nAuthorization: Bearer " + SECRET + "\\r\\nHost: x");
  }

  @Test
  public void linesWithoutCredentialsPassUnchanged() {
    String line = "2026-01-01T00:00:00Z INFO ExchangeLog: GET /a user=alice backend=b status=200 bytes=5 ms=3\n";
    assertSame(line, CredentialRedaction.redact(line));
    assertEquals("Authorization header missing", CredentialRedaction.redact("Authorization header missing"));
  }
}
