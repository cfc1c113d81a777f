package io.github.invertingproxy.websocket;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * Joins two open WebSockets frame by frame: text, binary and continuation frames, pings and pongs
 * cross unchanged and in order, and a close frame is passed on with its code and reason.
 *
 * <p>Backpressure: a frame is taken from one side only once the previous one from that side has been
 * written to the other, so each direction holds at most one frame, and a slow reader stops the writer
 * through TCP rather than by filling memory.
 *
 * <p>Failures: a side that breaks without a close handshake closes the other with its
 * {@link Leg#codeWhenLost code} (1011 or 1001); a message over the size limit closes both with 1009;
 * a side from which nothing arrives for the idle timeout (pings keep healthy ones busy) closes both
 * with 1001.
 */
public final class FrameRelay {
  private static final Logger LOG = Logger.getLogger(FrameRelay.class.getName());
  /** The payload of the relay's own pings; pings with it are answered here, pongs with it are not passed on. */
  static final ByteBuffer KEEPALIVE = ByteBuffer.wrap("inverting-proxy keepalive".getBytes(StandardCharsets.US_ASCII))
      .asReadOnlyBuffer();

  /** Told once when both sides are closed. */
  public interface Listener {
    void finished(FrameRelay relay);
  }

  private final String label;
  private final Leg a;
  private final Leg b;
  private final RelayLimits limits;
  private final ScheduledExecutorService timer;
  private final Listener listener;
  private final LongConsumer held;
  private final AtomicBoolean finished = new AtomicBoolean();
  private final long startNanos = System.nanoTime();
  private volatile ScheduledFuture<?> watchdog;
  private volatile String closedBy = "";
  private volatile CloseStatus firstClose;

  /**
   * @param held told of every change in the payload bytes taken from one side and not yet written to
   *     the other (the {@link Relays}' count of bytes held)
   */
  public FrameRelay(String label, Leg a, Leg b, RelayLimits limits, ScheduledExecutorService timer, LongConsumer held,
      Listener listener) {
    this.label = requireNonNull(label, "label");
    this.a = requireNonNull(a, "a");
    this.b = requireNonNull(b, "b");
    this.limits = requireNonNull(limits, "limits");
    this.timer = requireNonNull(timer, "timer");
    this.held = requireNonNull(held, "held");
    this.listener = requireNonNull(listener, "listener");
  }

  public String label() {
    return label;
  }

  /** Starts relaying; both legs must be open (or closed already, which closes the other). */
  public void start() {
    a.attach(this);
    b.attach(this);
    for (Leg leg : new Leg[] {a, b}) {
      CloseStatus status = leg.closed().getNow(null);
      if (status != null) {
        legClosed(leg, status);
      }
    }
    // Read on: a side that was sent a close still has to deliver the peer's answer.
    for (Leg leg : new Leg[] {a, b}) {
      if (leg.session() != null && !leg.closed().isDone()) {
        demand(leg.session());
      }
    }
    if (finished.get() || a.session() == null || b.session() == null) {
      return;
    }
    long tick = Math.max(20, Math.min(limits.idleTimeout().toMillis(),
        limits.pingInterval().isZero() ? Long.MAX_VALUE : limits.pingInterval().toMillis()) / 4);
    watchdog = timer.scheduleWithFixedDelay(this::watch, tick, tick, TimeUnit.MILLISECONDS);
  }

  private static void demand(CoreSession session) {
    try {
      session.demand();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "no more frames from a closed WebSocket", e);
    }
  }

  /** Closes both sides with {@code code}, as when the process shuts down. */
  public void closeBoth(int code, String reason) {
    closedBy = "proxy";
    closeLeg(a, new CloseStatus(code, reason));
    closeLeg(b, new CloseStatus(code, reason));
  }

  private Leg other(Leg leg) {
    return leg == a ? b : a;
  }

  void onFrame(Leg from, Frame frame, Callback callback) {
    Leg to = other(from);
    CoreSession source = from.session();
    byte opcode = frame.getOpCode();
    if (opcode == OpCode.CLOSE) {
      from.closeReceived = true;
      CloseStatus status = CloseStatus.getCloseStatus(frame);
      noteFirstClose(from.name(), status);
      closeLeg(to, new CloseStatus(status.getCode(), status.getReason()));
      // Jetty answers the close on this side once the callback completes.
      callback.succeeded();
      return;
    }
    if ((opcode == OpCode.PING || opcode == OpCode.PONG) && isKeepalive(frame)) {
      if (opcode == OpCode.PING && source.isOutputOpen() && !from.closeSent.get()) {
        source.sendFrame(new Frame(OpCode.PONG, copy(frame.getPayload())),
            Callback.from(() -> { callback.succeeded(); demand(source); }, callback::failed), false);
      } else {
        callback.succeeded();
        demand(source);
      }
      return;
    }
    int length = frame.getPayloadLength();
    if (frame.isDataFrame()) {
      from.messageBytes = opcode == OpCode.CONTINUATION ? from.messageBytes + length : length;
      if (from.messageBytes > limits.maxMessageSize()) {
        callback.succeeded();
        demand(source);
        String reason = "message larger than " + limits.maxMessageSize() + " bytes";
        noteFirstClose(from.name(), new CloseStatus(CloseStatus.MESSAGE_TOO_LARGE, reason));
        closedBy = "size limit (from " + from.name() + ")";
        closeLeg(from, new CloseStatus(CloseStatus.MESSAGE_TOO_LARGE, reason));
        closeLeg(to, new CloseStatus(CloseStatus.MESSAGE_TOO_LARGE, from.name() + " sent a " + reason));
        return;
      }
      if (frame.isFin()) {
        from.messages++;
      }
      from.bytes += length;
    }
    forward(frame, to, source, callback);
  }

  /** Sends a copy of {@code frame} on {@code to}, reading on from {@code source} once it is written or failed. */
  private void forward(Frame frame, Leg to, CoreSession source, Callback callback) {
    CoreSession target = to.session();
    if (to.closeSent.get() || target == null) {
      callback.succeeded();
      demand(source);
      return;
    }
    int length = frame.getPayloadLength();
    held.accept(length);
    Frame copy = new Frame(frame.getOpCode(), frame.isFin(), frame.getPayload());
    target.sendFrame(copy, Callback.from(() -> {
      held.accept(-length);
      callback.succeeded();
      demand(source);
    }, failure -> {
      held.accept(-length);
      LOG.log(Level.FINE, label + ": writing to " + to.name() + " failed", failure);
      // The other side is broken; its close notification closes this side. Read on until then.
      callback.succeeded();
      demand(source);
    }), false);
  }

  /** Sends a close frame on {@code leg} unless one was sent already. */
  void closeLeg(Leg leg, CloseStatus status) {
    CoreSession session = leg.session();
    if (session == null || !leg.closeSent.compareAndSet(false, true)) {
      return;
    }
    if (!session.isOutputOpen()) {
      return;
    }
    CloseStatus sendable = CloseStatus.isTransmittableStatusCode(status.getCode()) ? status : CloseStatus.NO_CODE_STATUS;
    session.close(sendable, Callback.from(() -> {}, failure -> session.abort()));
  }

  void legClosed(Leg leg, CloseStatus status) {
    if (!leg.closeHandled.compareAndSet(false, true)) {
      return;
    }
    leg.closeSent.set(true);
    Leg other = other(leg);
    if (!leg.closeReceived && !other.closeSent.get()) {
      // This side broke, or we closed it: tell the other side why.
      // A close the connection made itself (1009 for a frame too large, 1002 for a protocol error) is passed
      // on; a connection that just broke (1006) is reported with the code for losing that side.
      CloseStatus told = CloseStatus.isTransmittableStatusCode(status.getCode())
          ? new CloseStatus(status.getCode(), leg.name() + (status.getReason() == null ? " closed" : ": " + status.getReason()))
          : new CloseStatus(leg.codeWhenLost(), leg.reasonWhenLost());
      noteFirstClose(leg.name(), told);
      closeLeg(other, told);
    }
    if (other.closed().isDone() && finished.compareAndSet(false, true)) {
      finish();
    }
  }

  private void finish() {
    ScheduledFuture<?> w = watchdog;
    if (w != null) {
      w.cancel(false);
    }
    if (LOG.isLoggable(Level.INFO)) {
      CloseStatus first = firstClose;
      long millis = (System.nanoTime() - startNanos) / 1_000_000;
      LOG.info(String.format("websocket %s closed: %s->%s %d messages %d bytes, %s->%s %d messages %d bytes, close %s%s, %d ms",
          label, a.name(), b.name(), a.messages, a.bytes, b.name(), a.name(), b.messages, b.bytes,
          first == null ? "-" : first.getCode() + (first.getReason() == null ? "" : " \"" + first.getReason() + "\""),
          closedBy.isEmpty() ? "" : " by " + closedBy, millis));
    }
    listener.finished(this);
  }

  private void noteFirstClose(String by, CloseStatus status) {
    if (firstClose == null) {
      firstClose = status;
      if (closedBy.isEmpty()) {
        closedBy = by;
      }
    }
  }

  /** Pings quiet sides, and closes both when one stays silent past the idle timeout. */
  private void watch() {
    if (finished.get()) {
      ScheduledFuture<?> w = watchdog;
      if (w != null) {
        w.cancel(false);
      }
      return;
    }
    long now = System.nanoTime();
    for (Leg leg : new Leg[] {a, b}) {
      long silent = now - leg.lastReceivedNanos();
      if (silent >= limits.idleTimeout().toNanos()) {
        String reason = "idle timeout: nothing from " + leg.name() + " for " + limits.idleTimeout().toMillis() + " ms";
        closedBy = "idle timeout (" + leg.name() + ")";
        noteFirstClose("idle timeout", new CloseStatus(CloseStatus.SHUTDOWN, reason));
        closeLeg(leg, new CloseStatus(CloseStatus.SHUTDOWN, reason));
        closeLeg(other(leg), new CloseStatus(CloseStatus.SHUTDOWN, reason));
        return;
      }
      long interval = limits.pingInterval().toNanos();
      CoreSession session = leg.session();
      if (interval > 0 && silent >= interval && now - leg.lastPingNanos() >= interval && session != null
          && session.isOutputOpen() && !leg.closeSent.get()) {
        leg.pinged(now);
        session.sendFrame(new Frame(OpCode.PING, KEEPALIVE.slice()), Callback.NOOP, false);
      }
    }
  }

  private static boolean isKeepalive(Frame frame) {
    return frame.hasPayload() && frame.getPayload().equals(KEEPALIVE);
  }

  private static ByteBuffer copy(ByteBuffer payload) {
    return payload == null ? BufferUtil.EMPTY_BUFFER : BufferUtil.copy(payload);
  }

  @Override
  public String toString() {
    return "websocket " + label;
  }
}
