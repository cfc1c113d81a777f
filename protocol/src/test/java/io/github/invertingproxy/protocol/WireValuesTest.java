package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.Test;

public class WireValuesTest {
  @Test
  public void goDurationsParseAsTheOriginalFlagsDo() {
    assertEquals(Duration.ofSeconds(60), GoDuration.parse("60s"));
    assertEquals(Duration.ofMillis(500), GoDuration.parse("500ms"));
    assertEquals(Duration.ofMinutes(2), GoDuration.parse("2m"));
    assertEquals(Duration.ofMinutes(90), GoDuration.parse("1h30m"));
    assertEquals(Duration.ofMillis(1500), GoDuration.parse("1.5s"));
    assertEquals(Duration.ZERO, GoDuration.parse("0"));
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse("60"));
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse("5 parsecs"));
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(""));
    assertEquals("1m30s", GoDuration.format(Duration.ofSeconds(90)));
    assertEquals("500ms", GoDuration.format(Duration.ofMillis(500)));
  }

  @Test
  public void pendingListAcceptsArrayNullAndEmpty() {
    assertEquals(List.of("a", "b"), PendingRequestIds.parse("[\"a\",\"b\"]"));
    assertEquals(List.of(), PendingRequestIds.parse("null"));
    assertEquals(List.of(), PendingRequestIds.parse(""));
    assertEquals(List.of(), PendingRequestIds.parse("[]"));
    assertEquals("[\"a\",\"b\"]", PendingRequestIds.toJson(List.of("a", "b")));
    assertThrows(IllegalArgumentException.class, () -> PendingRequestIds.parse("{}"));
  }

  @Test
  public void startTimeRoundTripsWithNanoseconds() {
    Instant t = Instant.parse("2026-11-27T13:01:27.123456789Z");
    assertEquals(t, RequestStartTime.parse(RequestStartTime.format(t)));
    assertEquals(t, RequestStartTime.parse("2026-11-27T14:01:27.123456789+01:00"));
    assertThrows(IllegalArgumentException.class, () -> RequestStartTime.parse("yesterday"));
  }

  @Test
  public void hopByHopHeadersAndTheOnesConnectionNamesAreStripped() {
    Headers h = Headers.of("Connection", "keep-alive, X-Private", "Keep-Alive", "timeout=5",
        "X-Private", "1", "TE", "trailers", "Set-Cookie", "a", "Upgrade", "h2c", "Set-Cookie", "b");
    assertEquals(Headers.of("Set-Cookie", "a", "Set-Cookie", "b"), HopByHopHeaders.strip(h));
  }

  @Test
  public void protocolHeadersAreRecognisedInAnyCase() {
    assertTrue(ProtocolHeaders.isProtocolHeader("x-inverting-proxy-user-id"));
    assertTrue(ProtocolHeaders.isProtocolHeader("X-INVERTING-PROXY-ANYTHING"));
    assertFalse(ProtocolHeaders.isProtocolHeader("X-Inverting"));
  }
}
