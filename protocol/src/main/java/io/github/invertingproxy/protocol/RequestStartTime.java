package io.github.invertingproxy.protocol;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.OffsetDateTime;

/** The {@code X-Inverting-Proxy-Request-Start-Time} value: RFC 3339 with nanoseconds, in UTC. */
public final class RequestStartTime {
  private RequestStartTime() {}

  public static String format(Instant instant) {
    return instant.toString();
  }

  /** Accepts any RFC 3339 time, with or without fraction, with {@code Z} or a numeric offset. */
  public static Instant parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("missing " + ProtocolHeaders.REQUEST_START_TIME);
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "unparseable " + ProtocolHeaders.REQUEST_START_TIME + " \"" + text + "\": not RFC 3339");
    }
  }
}
