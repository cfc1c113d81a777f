package io.github.invertingproxy.commandline.logging;

import java.io.PrintStream;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Ends the JVM at once, with exit code {@value #EXIT_CODE} and one line on stderr, when it runs out
 * of memory, so that a supervisor restarts the process. Without this, an {@link OutOfMemoryError}
 * kills only the threads it hits (a selector, the log writer), and the process lives on holding its
 * port, accepting connections and answering none. {@code -XX:+ExitOnOutOfMemoryError} does the same
 * from the command line; this covers jars started without it.
 *
 * <p>Two ways an error is seen: a thread that dies of it (the default uncaught-exception handler),
 * and a thread pool that catches it and logs it (a handler on the root logger).
 */
public final class OutOfMemoryHalt {
  public static final int EXIT_CODE = 3;

  private OutOfMemoryHalt() {}

  /**
   * Installs both watches; {@code program} starts the line printed before exiting. Call it after
   * the log handlers are set up (setting them up anew may remove the watch); calling it again is harmless.
   */
  public static synchronized void install(String program, PrintStream err) {
    // Built now: there may be no memory for it later.
    String line = program + ": out of memory; exiting with code " + EXIT_CODE + " so that it can be restarted";
    if (!(Thread.getDefaultUncaughtExceptionHandler() instanceof Watch)) {
      Thread.setDefaultUncaughtExceptionHandler(new Watch(line, err, Thread.getDefaultUncaughtExceptionHandler()));
    }
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      if (h instanceof LogWatch) {
        root.removeHandler(h);
      }
    }
    root.addHandler(new LogWatch(line, err));
  }

  /** Halts on a thread that dies of it; hands anything else on as before. */
  private record Watch(String line, PrintStream err, Thread.UncaughtExceptionHandler previous)
      implements Thread.UncaughtExceptionHandler {
    @Override
    public void uncaughtException(Thread thread, Throwable e) {
      if (isOutOfMemory(e)) {
        halt(err, line);
      }
      if (previous != null) {
        previous.uncaughtException(thread, e);
      } else {
        thread.getThreadGroup().uncaughtException(thread, e);
      }
    }
  }

  /** Halts on a log record of it: thread pools catch what their jobs throw and log it. */
  private static final class LogWatch extends Handler {
    private final String line;
    private final PrintStream err;

    LogWatch(String line, PrintStream err) {
      this.line = line;
      this.err = err;
    }

    @Override
    public void publish(LogRecord record) {
      if (isOutOfMemory(record.getThrown())) {
        halt(err, line);
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  static boolean isOutOfMemory(Throwable e) {
    for (int depth = 0; e != null && depth < 16; e = e.getCause(), depth++) {
      if (e instanceof OutOfMemoryError) {
        return true;
      }
    }
    return false;
  }

  private static void halt(PrintStream err, String line) {
    try {
      err.println(line);
      err.flush();
    } catch (Throwable ignored) {
      // Exiting matters more than saying so.
    }
    Runtime.getRuntime().halt(EXIT_CODE);
  }
}
