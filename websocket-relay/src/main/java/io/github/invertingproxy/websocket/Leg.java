package io.github.invertingproxy.websocket;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;

/**
 * One of the two WebSockets that a {@link FrameRelay} joins, such as the client's socket at the
 * proxy or the backend's socket at the agent. It receives nothing until the relay starts, so frames
 * that arrive early wait in the connection (and, past its buffers, in TCP) rather than in memory.
 */
public final class Leg implements FrameHandler {
  private final String name;
  private final int codeWhenLost;
  private final String reasonWhenLost;
  private final RelayLimits limits;
  private final CompletableFuture<CoreSession> opened = new CompletableFuture<>();
  private final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
  private volatile FrameRelay relay;
  private volatile long lastReceivedNanos = System.nanoTime();
  private volatile long lastPingNanos;
  private volatile Throwable failure;
  final AtomicBoolean closeSent = new AtomicBoolean();
  final AtomicBoolean closeHandled = new AtomicBoolean();
  volatile boolean closeReceived;
  // Only touched from onFrame, which Jetty never calls concurrently for one session.
  long messageBytes;
  long messages;
  long bytes;

  /**
   * @param name what the peer is, for logs and close reasons: {@code client}, {@code agent},
   *     {@code backend}, {@code proxy}
   * @param codeWhenLost the close code the other leg gets when this one breaks without a close
   *     handshake: 1011 when the side that serves is lost, 1001 when the side that asked went away
   */
  public Leg(String name, int codeWhenLost, RelayLimits limits) {
    this.name = requireNonNull(name, "name");
    this.codeWhenLost = codeWhenLost;
    this.reasonWhenLost = codeWhenLost == CloseStatus.SHUTDOWN ? name + " went away" : name + " connection lost";
    this.limits = requireNonNull(limits, "limits");
  }

  public String name() {
    return name;
  }

  /** Completes when the WebSocket is open. */
  public CompletableFuture<CoreSession> opened() {
    return opened;
  }

  /** Completes when the WebSocket is closed, gracefully or not. */
  public CompletableFuture<CloseStatus> closed() {
    return closed;
  }

  /** The open session; null before it opened. */
  public CoreSession session() {
    return opened.getNow(null);
  }

  /** The accepted subprotocol, or null. */
  public String subprotocol() {
    CoreSession s = session();
    return s == null ? null : s.getNegotiatedSubProtocol();
  }

  /** Closes this socket with {@code code} (when it is still open), for example when it is not needed after all. */
  public void close(int code, String reason) {
    FrameRelay r = relay;
    if (r != null) {
      r.closeLeg(this, new CloseStatus(code, reason));
      return;
    }
    CoreSession s = session();
    if (s != null && closeSent.compareAndSet(false, true)) {
      s.close(code, reason, Callback.NOOP);
    } else if (s == null) {
      opened.thenAccept(session -> close(code, reason));
    }
  }

  /** Drops the connection without a close handshake. */
  public void abort() {
    CoreSession s = session();
    if (s != null) {
      s.abort();
    }
  }

  int codeWhenLost() {
    return codeWhenLost;
  }

  String reasonWhenLost() {
    return reasonWhenLost;
  }

  long lastReceivedNanos() {
    return lastReceivedNanos;
  }

  long lastPingNanos() {
    return lastPingNanos;
  }

  void pinged(long nanos) {
    lastPingNanos = nanos;
  }

  Throwable failure() {
    return failure;
  }

  void attach(FrameRelay relay) {
    this.relay = relay;
  }

  @Override
  public void onOpen(CoreSession session, Callback callback) {
    // Frames cross whole, as they came: no automatic fragmenting, and none larger than a message may be.
    session.setAutoFragment(false);
    session.setMaxFrameSize(limits.maxMessageSize());
    session.setMaxTextMessageSize(limits.maxMessageSize());
    session.setMaxBinaryMessageSize(limits.maxMessageSize());
    // The relay watches idleness itself (with pings); the connection's own timeout is only a backstop.
    session.setIdleTimeout(limits.idleTimeout().plusSeconds(30));
    lastReceivedNanos = System.nanoTime();
    callback.succeeded();
    opened.complete(session);
  }

  @Override
  public void onFrame(Frame frame, Callback callback) {
    lastReceivedNanos = System.nanoTime();
    FrameRelay r = relay;
    if (r == null) {
      // Cannot happen: nothing is demanded before the relay starts.
      callback.succeeded();
      return;
    }
    r.onFrame(this, frame, callback);
  }

  @Override
  public void onError(Throwable cause, Callback callback) {
    failure = cause;
    opened.completeExceptionally(cause);
    callback.succeeded();
  }

  @Override
  public void onClosed(CloseStatus status, Callback callback) {
    opened.completeExceptionally(new IllegalStateException(name + " closed before it opened: " + status));
    closed.complete(status);
    FrameRelay r = relay;
    if (r != null) {
      r.legClosed(this, status);
    }
    callback.succeeded();
  }

  @Override
  public String toString() {
    return name;
  }
}
