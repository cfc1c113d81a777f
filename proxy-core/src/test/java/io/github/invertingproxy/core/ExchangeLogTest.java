package io.github.invertingproxy.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class ExchangeLogTest {
  @Test
  public void lineNamesEveryFieldWithMillisecondsToThreeDecimals() {
    assertEquals("GET /a?b=c user=alice@example.com backend=nb status=200 bytes=100 latency=1.234ms",
        ExchangeLog.line("GET", "/a?b=c", "alice@example.com", "nb", 200, 100, 1234));
    assertEquals("POST / user=- backend=- status=404 bytes=0 latency=0.007ms",
        ExchangeLog.line("POST", "/", "", null, 404, 0, 7));
    assertEquals("GET /x user=- backend=b status=502 bytes=5 latency=12.050ms",
        ExchangeLog.line("GET", "/x", "", "b", 502, 5, 12050));
    assertEquals("GET /x user=- backend=b status=0 bytes=5 latency=3000.100ms",
        ExchangeLog.line("GET", "/x", "", "b", 0, 5, 3000100));
  }
}
