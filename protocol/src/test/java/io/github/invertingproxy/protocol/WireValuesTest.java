package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;
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
  public void startTimeIsReadAsJavaTimeReadsIt() {
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      Instant instant = Instant.ofEpochSecond(random.nextInt(Integer.MAX_VALUE) * (random.nextBoolean() ? 1L : 4L),
          random.nextInt(1_000_000_000));
      ZoneOffset offset = ZoneOffset.ofTotalSeconds((random.nextInt(36) - 18) * 3600 + random.nextInt(4) * 900);
      String fraction = ".SSSSSSSSS".substring(0, random.nextInt(11) == 10 ? 0 : 1 + random.nextInt(9) + 1);
      String text = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss" + fraction + "xxx").format(instant.atOffset(offset))
          .replace("+00:00", random.nextBoolean() ? "Z" : "+00:00");
      assertEquals(text, OffsetDateTime.parse(text).toInstant(), RequestStartTime.parse(text));
    }
  }

  @Test
  public void startTimesOutsideTheCommonShapeGoToTheGeneralParser() {
    assertEquals(Instant.parse("2026-11-27T13:01:00Z"), RequestStartTime.parse("2026-11-27T13:01Z"));
    assertEquals(Instant.parse("2026-11-27T13:01:27Z"), RequestStartTime.parse("2026-11-27t13:01:27z"));
    assertEquals(Instant.parse("2024-02-29T00:00:00Z"), RequestStartTime.parse("2024-02-29T00:00:00Z"));
    assertEquals(Instant.parse("2026-11-27T13:01:27Z"), RequestStartTime.parse("2026-11-27T13:01:27-00:00"));
    assertEquals(Instant.parse("2026-11-27T13:01:27Z"), RequestStartTime.parse("2026-11-28T07:01:27+18:00"));
    for (String bad : List.of("2026-02-29T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T13:60:00Z",
        "2026-11-27T13:01:60Z", "2026-13-27T13:01:27Z", "2026-11-27T13:01:27.1234567891Z",
        "2026-11-27T13:01:27+18:30", "2026-11-27T13:01:27+1:00", "2026-11-27T13:01:27", "2026-11-27 13:01:27Z",
        "2026-11-27T13:01:27Zjunk", "+2026-11-27T13:01:27Z", "２026-11-27T13:01:27Z")) {
      IllegalArgumentException e = assertThrows(bad, IllegalArgumentException.class, () -> RequestStartTime.parse(bad));
      assertTrue(e.getMessage(), e.getMessage().contains("not RFC 3339"));
    }
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
