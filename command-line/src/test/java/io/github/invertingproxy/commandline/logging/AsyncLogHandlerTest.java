package io.github.invertingproxy.commandline.logging;

import static org.junit.Assert.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.Test;

public class AsyncLogHandlerTest {
  private static final Formatter LINES = new Formatter() {
    @Override
    public String format(LogRecord record) {
      return record.getMessage() + "\n";
    }
  };

  private static List<String> lines(ByteArrayOutputStream out) {
    String text = new String(out.toByteArray(), StandardCharsets.UTF_8);
    return text.isEmpty() ? List.of() : List.of(text.split("\n"));
  }

  private static List<String> numbered(int count) {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      expected.add("line " + i);
    }
    return expected;
  }

  @Test
  public void flushReturnsOnceEveryQueuedLineIsWrittenInOrder() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AsyncLogHandler handler = new AsyncLogHandler(out, LINES, "test-log");
    try {
      for (int i = 0; i < 5000; i++) {
        handler.publish(new LogRecord(Level.INFO, "line " + i));
        handler.flush();
        assertEquals(i + 1, lines(out).size());
      }
      assertEquals(numbered(5000), lines(out));
    } finally {
      handler.close();
    }
  }

  @Test
  public void theWriterThreadWritesLinesWithoutAFlush() throws InterruptedException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AsyncLogHandler handler = new AsyncLogHandler(out, LINES, "test-log");
    try {
      handler.publish(new LogRecord(Level.INFO, "alone"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (lines(out).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(List.of("alone"), lines(out));
    } finally {
      handler.close();
    }
  }

  @Test
  public void closeWritesEverythingQueuedEvenBeyondTheQueuesCapacity() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AsyncLogHandler handler = new AsyncLogHandler(out, LINES, "test-log");
    for (int i = 0; i < 50_000; i++) {
      handler.publish(new LogRecord(Level.INFO, "line " + i));
    }
    handler.close();
    List<String> written = lines(out);
    assertEquals(50_000, written.size());
    assertEquals(50_000, written.stream().distinct().count());
    handler.publish(new LogRecord(Level.INFO, "after close"));
    handler.flush();
    assertEquals(50_000, lines(out).size());
  }

  @Test
  public void recordsBelowTheHandlersLevelAreNotWritten() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AsyncLogHandler handler = new AsyncLogHandler(out, LINES, "test-log");
    handler.setLevel(Level.INFO);
    handler.publish(new LogRecord(Level.FINE, "quiet"));
    handler.publish(new LogRecord(Level.WARNING, "loud"));
    handler.close();
    assertEquals(List.of("loud"), lines(out));
  }
}
