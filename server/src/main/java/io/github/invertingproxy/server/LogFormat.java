package io.github.invertingproxy.server;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import io.github.invertingproxy.commandline.logging.AsyncLogHandler;
import io.github.invertingproxy.commandline.logging.CredentialRedaction;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One line per log record: time, level, logger's short name, message; credentials redacted. */
final class LogFormat extends Formatter {
  @Override
  public String format(LogRecord r) {
    String name = r.getLoggerName() == null ? "" : r.getLoggerName();
    name = name.substring(name.lastIndexOf('.') + 1);
    StringBuilder b = new StringBuilder(160)
        .append(Instant.ofEpochMilli(r.getMillis())).append(' ')
        .append(r.getLevel().getName()).append(' ')
        .append(name).append(": ").append(formatMessage(r)).append('\n');
    if (r.getThrown() != null) {
      StringWriter w = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(w));
      b.append(w);
    }
    // At every level: Jetty's debug lines print request heads and wire bytes.
    return CredentialRedaction.redact(b.toString());
  }

  /**
   * Sends everything at {@code level} and above to stderr in this format, written by a background
   * thread ({@link AsyncLogHandler}) so that the per-exchange line costs a request thread no I/O.
   */
  static void install(Level level) {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
      if (h instanceof AsyncLogHandler) {
        h.close();
      }
    }
    Handler stderr = new AsyncLogHandler(System.err, new LogFormat(), "log-writer");
    stderr.setLevel(level);
    root.addHandler(stderr);
    root.setLevel(level);
    // Jetty's own INFO lines say little that the start-up line does not.
    Logger.getLogger("org.eclipse.jetty").setLevel(level.intValue() <= Level.FINE.intValue() ? level : Level.WARNING);
  }
}
