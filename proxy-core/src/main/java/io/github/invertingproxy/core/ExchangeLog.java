package io.github.invertingproxy.core;

import java.util.logging.Level;
import java.util.logging.Logger;

/** The one INFO line per proxied exchange: method, path, user, backend, status, bytes, latency. */
public final class ExchangeLog {
  private static final Logger LOG = Logger.getLogger("io.github.invertingproxy.exchange");

  private ExchangeLog() {}

  public static void log(String method, String path, String user, String backend, int status, long bytes,
      long startNanos) {
    if (LOG.isLoggable(Level.INFO)) {
      long micros = (System.nanoTime() - startNanos) / 1000;
      LOG.info(String.format("%s %s user=%s backend=%s status=%d bytes=%d latency=%d.%03dms", method, path,
          user.isEmpty() ? "-" : user, backend == null ? "-" : backend, status, bytes, micros / 1000, micros % 1000));
    }
  }
}
