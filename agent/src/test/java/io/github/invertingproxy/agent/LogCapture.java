package io.github.invertingproxy.agent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** Collects what the agent logs, so tests can check the lines it writes. */
final class LogCapture extends Handler implements AutoCloseable {
  private static final Logger AGENT = Logger.getLogger("io.github.invertingproxy.agent");

  private static final SimpleFormatter TEXT = new SimpleFormatter();

  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Level previous;

  private LogCapture() {
    previous = AGENT.getLevel();
  }

  static LogCapture start() {
    LogCapture capture = new LogCapture();
    capture.setLevel(Level.ALL);
    AGENT.addHandler(capture);
    AGENT.setLevel(Level.FINE);
    return capture;
  }

  /** Messages at INFO or above that contain {@code text}. */
  List<String> messagesContaining(String text) {
    List<String> found = new ArrayList<>();
    for (LogRecord r : records) {
      String message = TEXT.formatMessage(r);
      if (r.getLevel().intValue() >= Level.INFO.intValue() && message.contains(text)) {
        found.add(message);
      }
    }
    return found;
  }

  /** Every message at every level, debug details included. */
  List<String> allMessages() {
    List<String> all = new ArrayList<>();
    for (LogRecord r : records) {
      all.add(TEXT.formatMessage(r));
    }
    return all;
  }

  /** Waits for at least {@code count} such messages; the request's line comes after the response. */
  List<String> awaitMessagesContaining(String text, int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> found = messagesContaining(text);
    while (found.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(5);
      found = messagesContaining(text);
    }
    return found;
  }

  @Override
  public void publish(LogRecord record) {
    records.add(record);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    AGENT.removeHandler(this);
    AGENT.setLevel(previous);
  }
}
