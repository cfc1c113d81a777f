package io.github.invertingproxy.core;

import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.observe.Finished;
import io.github.invertingproxy.core.observe.ObservedExchange;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The access log, an {@link ExchangeObserver}: the one INFO line per proxied exchange: method, path, user, backend, status, bytes, latency.
 *
 * <p>It is on every request's path, so it is built with a plain {@link StringBuilder} (no
 * {@code String.format}, which parses its pattern on every call); where the line is written, and
 * whether synchronously, is the installed handler's business (the stand-alone server's is
 * asynchronous).
 */
public final class ExchangeLog implements ExchangeObserver {
  private static final Logger LOG = Logger.getLogger("io.github.invertingproxy.exchange");

  @Override
  public void finished(ObservedExchange e, Finished end) {
    if (LOG.isLoggable(Level.INFO)) {
      LOG.info(line(e.method(), e.path(), e.user(), e.backend(), end.status(), end.bytesOut(), end.latencyNanos() / 1000));
    }
  }

  /** {@code GET /p user=u backend=b status=200 bytes=12 latency=1.234ms}; "-" for no user or backend. */
  static String line(String method, String path, String user, String backend, int status, long bytes, long micros) {
    StringBuilder b = new StringBuilder(96 + path.length())
        .append(method).append(' ').append(path)
        .append(" user=").append(user.isEmpty() ? "-" : user)
        .append(" backend=").append(backend == null ? "-" : backend)
        .append(" status=").append(status)
        .append(" bytes=").append(bytes)
        .append(" latency=").append(micros / 1000).append('.');
    long fraction = micros % 1000;
    if (fraction < 100) {
      b.append('0');
    }
    if (fraction < 10) {
      b.append('0');
    }
    return b.append(fraction).append("ms").toString();
  }
}
