package io.github.invertingproxy.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.AbstractLifeCycle;

/**
 * A deadline for a request head to arrive whole ({@code --read-header-timeout}): a connection that
 * has not delivered a complete head within it, counted from when it was accepted or from the first
 * byte of its next head, is closed. The connection's idle timeout cannot do this: a client sending
 * one byte every few seconds is never idle.
 *
 * <p>Register {@link #tracks} on the HTTP/1.1 connection factory (not on the connector, which would
 * hand it WebSocket connections too, which have no heads), start it with the connector, and wrap the
 * server's handler in {@link #wrap}, which tells when a head was complete and when its exchange ended.
 */
final class HeaderDeadline extends AbstractLifeCycle {
  private static final Logger LOG = Logger.getLogger(HeaderDeadline.class.getName());

  /** One connection's progress; guarded by itself. */
  private static final class Head {
    /** When the head being read began (nanoTime); 0 while none is being read. */
    long startNanos;
    /** Bytes read when the last exchange ended: more than this means the next head has begun. */
    long bytesAtRest;
    boolean handling;
  }

  private final long timeoutNanos;
  private final Map<Connection, Head> heads = new ConcurrentHashMap<>();
  private ScheduledExecutorService sweeper;

  HeaderDeadline(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the read header timeout must be positive, was " + timeout);
    }
    this.timeoutNanos = timeout.toNanos();
  }

  /** The listener to add to the HTTP/1.1 connection factory. */
  Connection.Listener tracks() {
    return new Connection.Listener() {
      @Override
      public void onOpened(Connection connection) {
        Head head = new Head();
        head.startNanos = System.nanoTime(); // the first head's time runs from the accept
        heads.put(connection, head);
      }

      @Override
      public void onClosed(Connection connection) {
        heads.remove(connection);
      }
    };
  }

  /**
   * {@code handler}, reporting to this deadline when each head was complete (handling begins) and
   * when its exchange ended (the callback completes). A plain wrapper: no per-read or per-write hooks.
   */
  Handler wrap(Handler handler) {
    return new Handler.Wrapper(handler) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Connection connection = request.getConnectionMetaData().getConnection();
        Head head = heads.get(connection);
        if (head == null) {
          return super.handle(request, response, callback);
        }
        synchronized (head) {
          head.handling = true;
          head.startNanos = 0;
        }
        Callback ended = new Callback.Nested(callback) {
          @Override
          public void succeeded() {
            atRest(connection, head);
            super.succeeded();
          }

          @Override
          public void failed(Throwable x) {
            atRest(connection, head);
            super.failed(x);
          }
        };
        boolean handled;
        try {
          handled = super.handle(request, response, ended);
        } catch (Throwable t) {
          atRest(connection, head);
          throw t;
        }
        if (!handled) {
          atRest(connection, head); // the container answers it, not through this callback
        }
        return handled;
      }
    };
  }

  /** The exchange on {@code connection} ended: the next head's time runs from its first byte. */
  private static void atRest(Connection connection, Head head) {
    synchronized (head) {
      head.handling = false;
      head.bytesAtRest = connection.getBytesIn();
    }
  }

  @Override
  protected void doStart() {
    sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "read-header-deadline");
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(50), Math.min(TimeUnit.SECONDS.toNanos(1), timeoutNanos / 4));
    sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS);
  }

  @Override
  protected void doStop() {
    sweeper.shutdownNow();
    heads.clear();
  }

  /** Closes the connections whose head is overdue. */
  private void sweep() {
    try {
      sweepOnce(System.nanoTime());
    } catch (RuntimeException e) {
      // Never let one bad sweep stop the next ones.
      LOG.log(Level.WARNING, "checking request heads against the read header timeout failed", e);
    }
  }

  private void sweepOnce(long now) {
    heads.forEach((connection, head) -> {
      if (connection.getEndPoint().getConnection() != connection) {
        heads.remove(connection); // upgraded (WebSocket): no more heads on it
        return;
      }
      boolean overdue;
      synchronized (head) {
        if (head.handling) {
          return;
        }
        if (head.startNanos == 0 && connection.getBytesIn() > head.bytesAtRest) {
          head.startNanos = now;
        }
        overdue = head.startNanos != 0 && now - head.startNanos >= timeoutNanos;
      }
      if (overdue) {
        heads.remove(connection);
        if (LOG.isLoggable(Level.FINE)) {
          LOG.fine("closing " + connection.getEndPoint().getRemoteSocketAddress()
              + ": no complete request head within the read header timeout");
        }
        connection.getEndPoint().close();
      }
    });
  }
}
