package io.github.invertingproxy.protocol;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * Durations in the syntax of Go's {@code time.ParseDuration}, which the original proxy's flags use:
 * a sequence of decimal numbers with units {@code ns, us, µs, ms, s, m, h}, as in {@code 60s},
 * {@code 500ms}, {@code 1h30m} or {@code 1.5s}; a bare {@code 0} is zero.
 */
public final class GoDuration {
  private GoDuration() {}

  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty duration; expected a value such as 60s, 500ms or 2m");
    }
    String s = text.trim();
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    BigDecimal nanos = BigDecimal.ZERO;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      if (start == i) {
        throw invalid(text);
      }
      BigDecimal number;
      try {
        number = new BigDecimal(s.substring(start, i));
      } catch (NumberFormatException e) {
        throw invalid(text);
      }
      int unitStart = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
        i++;
      }
      long unitNanos = switch (s.substring(unitStart, i)) {
        case "ns" -> 1L;
        case "us", "µs", "μs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "h" -> 3_600_000_000_000L;
        default -> throw invalid(text);
      };
      nanos = nanos.add(number.multiply(BigDecimal.valueOf(unitNanos)));
    }
    return Duration.ofNanos(nanos.longValue());
  }

  /** Formats as Go does for whole units, for help texts and start-up lines ({@code 1m30s}, {@code 500ms}). */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    if (d.toMillis() < 1000) {
      return d.toMillis() + "ms";
    }
    StringBuilder b = new StringBuilder();
    long seconds = d.getSeconds();
    if (seconds >= 3600) {
      b.append(seconds / 3600).append('h');
      seconds %= 3600;
    }
    if (seconds >= 60) {
      b.append(seconds / 60).append('m');
      seconds %= 60;
    }
    int millis = d.toMillisPart();
    if (seconds > 0 || millis > 0) {
      b.append(seconds);
      if (millis > 0) {
        b.append('.').append(String.format("%03d", millis).replaceAll("0+$", ""));
      }
      b.append('s');
    }
    return b.toString();
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException(
        "invalid duration \"" + text + "\"; expected a value such as 60s, 500ms, 2m or 1h30m");
  }
}
