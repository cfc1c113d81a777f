package io.github.invertingproxy.agent.channel;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.proxy.Backoff;
import io.github.invertingproxy.agent.proxy.ProxyClient;
import io.github.invertingproxy.agent.websocket.Dialer;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.HeaderField;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.logging.Logger;
import org.eclipse.jetty.websocket.core.CloseStatus;

/**
 * The agent's side of the channel extension (docs/protocol.md): once a poll's answer offers it, one
 * WebSocket to {@code agent/channel}, over which the proxy sends small requests whole and the agent
 * may answer them in one frame each. At most one is open or opening. One that cannot be opened, or
 * that closes, is opened again at a later offer, after a backoff (5 s, doubling up to 60 s); polling
 * goes on all the while, so requests keep coming either way.
 */
public final class ProxyChannel implements Closeable {
  private static final Logger LOG = Logger.getLogger(ProxyChannel.class.getName());
  static final Duration OPEN_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration FIRST_RETRY = Duration.ofSeconds(5);
  static final Duration MAX_RETRY = Duration.ofSeconds(60);
  /** Keeps an idle channel alive through load balancers and NATs that drop quiet connections. */
  static final Duration PING_INTERVAL = Duration.ofSeconds(30);
  /** A channel from which nothing, not even a pong, arrives this long is taken for dead. */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration WATCH_EVERY = Duration.ofSeconds(10);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

  private final URI uri;
  private final ProxyClient proxy;
  private final Dialer dialer;
  private final BiConsumer<ChannelFrame.Request, ChannelSocket> requests;
  private final HeldRequests held;
  private final ScheduledFuture<?> watchdog;
  private final Object lock = new Object();
  private final Backoff backoff = new Backoff(FIRST_RETRY, MAX_RETRY, Backoff.JITTER,
      () -> ThreadLocalRandom.current().nextDouble());
  private ChannelSocket current;
  private long retryNanos;
  private boolean waitingToRetry;
  private boolean failing;
  private boolean closed;

  /**
   * @param uri the proxy's {@code agent/channel} as {@code ws://} or {@code wss://}
   * @param proxy the agent's calls, for their {@code Host} and fields
   * @param requests takes each request that arrives, with the socket it came over; called on Jetty's
   *     threads, so must never wait: hand the request on, or send it without waiting
   * @param timer where the keepalive pings are scheduled
   */
  public ProxyChannel(URI uri, ProxyClient proxy, Dialer dialer, BiConsumer<ChannelFrame.Request, ChannelSocket> requests,
      ScheduledExecutorService timer) {
    this(uri, proxy, dialer, requests, timer, null);
  }

  /** @param held while its requests fill it, the channel is read no further; null: no limit */
  public ProxyChannel(URI uri, ProxyClient proxy, Dialer dialer, BiConsumer<ChannelFrame.Request, ChannelSocket> requests,
      ScheduledExecutorService timer, HeldRequests held) {
    this.held = held;
    this.uri = requireNonNull(uri, "uri");
    this.proxy = requireNonNull(proxy, "proxy");
    this.dialer = requireNonNull(dialer, "dialer");
    this.requests = requireNonNull(requests, "requests");
    long every = WATCH_EVERY.toMillis();
    this.watchdog = requireNonNull(timer, "timer").scheduleWithFixedDelay(this::watch, every, every,
        TimeUnit.MILLISECONDS);
  }

  /** Whether a channel is open now. */
  public boolean isOpen() {
    ChannelSocket socket;
    synchronized (lock) {
      socket = current;
    }
    return socket != null && socket.isOpen();
  }

  /**
   * The proxy offered the channel in a poll's answer: opens it unless one is open or opening, or the
   * backoff after the last failure has not passed. Returns at once; the channel opens in the background.
   */
  public void offered() {
    ChannelSocket socket;
    synchronized (lock) {
      if (closed || current != null || (waitingToRetry && System.nanoTime() - retryNanos < 0)) {
        return;
      }
      waitingToRetry = false;
      socket = new ChannelSocket(new Events(), IDLE_TIMEOUT.plusSeconds(30));
      current = socket;
    }
    List<HeaderField> fields;
    try {
      fields = proxy.agentFields();
    } catch (IOException | RuntimeException e) {
      openFailed(socket, "no credentials: " + e.getMessage());
      return;
    }
    dialer.open(uri, socket, fields, proxy.host(), List.of(), OPEN_TIMEOUT).whenComplete((dialed, failure) -> {
      if (failure != null) {
        openFailed(socket, describe(failure));
      } else {
        opened(socket);
      }
    });
  }

  private void opened(ChannelSocket socket) {
    boolean shutDown;
    synchronized (lock) {
      shutDown = closed;
      if (!shutDown && current != socket) {
        // Closed again already, and reported so.
        return;
      }
      failing = false;
    }
    if (shutDown) {
      socket.close(CloseStatus.SHUTDOWN, "agent shutting down");
      return;
    }
    LOG.info("channel to the proxy opened");
  }

  private void openFailed(ChannelSocket socket, String why) {
    boolean first;
    Duration wait;
    synchronized (lock) {
      if (current == socket) {
        current = null;
      }
      if (closed) {
        return;
      }
      wait = retryLater();
      first = !failing;
      failing = true;
    }
    // One warning when opening starts to fail, not one per retry.
    if (first) {
      LOG.warning("channel to the proxy could not be opened: " + why + "; requests keep coming through polls");
    } else {
      LOG.fine("channel to the proxy could not be opened again (next try in " + wait.toSeconds() + " s or later): "
          + why);
    }
  }

  /** Sets when the next attempt may be made; called with the lock held. */
  private Duration retryLater() {
    Duration wait = backoff.next();
    retryNanos = System.nanoTime() + wait.toNanos();
    waitingToRetry = true;
    return wait;
  }

  private void closedWhileRunning(ChannelSocket socket, CloseStatus status, String agentReason, Throwable failure) {
    boolean shutDown;
    synchronized (lock) {
      if (current == socket) {
        current = null;
      }
      shutDown = closed;
      if (!shutDown) {
        // A channel that stayed up a good while starts the backoff afresh.
        long opened = socket.openedNanos();
        if (opened != 0 && System.nanoTime() - opened >= MAX_RETRY.toNanos()) {
          backoff.reset();
        }
        retryLater();
      }
    }
    if (shutDown) {
      LOG.fine("channel to the proxy closed");
      return;
    }
    String code = status.getCode() + (status.getReason() == null || status.getReason().isEmpty()
        ? "" : " \"" + status.getReason() + "\"");
    if (agentReason != null) {
      LOG.warning("channel to the proxy closed (" + status.getCode() + "): " + agentReason
          + "; requests keep coming through polls");
    } else if (status.getCode() == CloseStatus.NORMAL || status.getCode() == CloseStatus.SHUTDOWN) {
      LOG.info("channel to the proxy closed by the proxy (" + code + "); requests keep coming through polls");
    } else {
      String why = failure == null ? "" : ": " + describe(failure);
      LOG.warning("channel to the proxy lost (" + code + ")" + why + "; requests keep coming through polls");
    }
  }

  private void watch() {
    ChannelSocket socket;
    synchronized (lock) {
      socket = current;
    }
    if (socket != null) {
      socket.watch(PING_INTERVAL, IDLE_TIMEOUT);
    }
  }

  /**
   * Closes the channel (1001) and opens none again; waits a moment for the proxy's answer to the
   * close. Requests in flight then answer with {@code agent/response}.
   */
  @Override
  public void close() {
    ChannelSocket socket;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      socket = current;
    }
    watchdog.cancel(false);
    if (socket == null) {
      return;
    }
    socket.close(CloseStatus.SHUTDOWN, "agent shutting down");
    try {
      socket.awaitClosed(CLOSE_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String describe(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** The socket's events, passed on to this channel. */
  private final class Events implements ChannelSocket.Listener {
    @Override
    public void received(ChannelFrame.Request request, ChannelSocket via) {
      try {
        requests.accept(request, via);
      } catch (RejectedExecutionException e) {
        LOG.info("request " + request.id() + " (over the channel): not forwarded: the agent is stopping");
      }
    }

    @Override
    public void readOn(Runnable readNext) {
      if (held == null) {
        readNext.run();
      } else {
        held.whenRoom(readNext);
      }
    }

    @Override
    public void closed(ChannelSocket socket, CloseStatus status, String agentReason, Throwable failure) {
      closedWhileRunning(socket, status, agentReason, failure);
    }
  }
}
