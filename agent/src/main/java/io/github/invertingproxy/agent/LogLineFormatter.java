package io.github.invertingproxy.agent;

import io.github.invertingproxy.commandline.logging.AsyncLogHandler;
import io.github.invertingproxy.commandline.logging.CredentialRedaction;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One line per record: UTC time, level, message, credentials redacted; a stack trace follows only at FINE. */
final class LogLineFormatter extends Formatter {
  private static final String ROOT = "io.github.invertingproxy";
  // java.util.logging keeps loggers weakly; holding the configured one keeps its level and handler.
  private static Logger configured;

  private final boolean traces;

  LogLineFormatter(boolean traces) {
    this.traces = traces;
  }

  /**
   * Sends the agent's logging to {@code out}, at INFO, or at FINE with {@code debug}, written by a
   * background thread ({@link AsyncLogHandler}) so that the line per request costs a request thread
   * no I/O. Flush the returned handler before writing to {@code out} directly.
   */
  static synchronized Handler install(boolean debug, PrintStream out) {
    Logger logger = Logger.getLogger(ROOT);
    for (Handler h : logger.getHandlers()) {
      logger.removeHandler(h);
      h.close();
    }
    Handler handler = new AsyncLogHandler(out, new LogLineFormatter(debug), "inverting-proxy-agent-log");
    handler.setLevel(Level.ALL);
    logger.addHandler(handler);
    logger.setUseParentHandlers(false);
    logger.setLevel(debug ? Level.FINE : Level.INFO);
    configured = logger;
    return handler;
  }

  @Override
  public String format(LogRecord record) {
    StringBuilder b = new StringBuilder(160);
    b.append(Instant.ofEpochMilli(record.getMillis()).truncatedTo(ChronoUnit.MILLIS))
        .append(' ').append(record.getLevel().getName()).append(' ').append(formatMessage(record));
    Throwable thrown = record.getThrown();
    if (thrown != null) {
      if (traces) {
        StringWriter trace = new StringWriter();
        thrown.printStackTrace(new PrintWriter(trace));
        b.append(System.lineSeparator()).append(trace.toString().stripTrailing());
      } else {
        b.append(" (").append(thrown).append(')');
      }
    }
    return CredentialRedaction.redact(b.append(System.lineSeparator()).toString());
  }
}
