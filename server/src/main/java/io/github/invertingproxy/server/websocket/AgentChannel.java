package io.github.invertingproxy.server.websocket;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.RequestStartTime;
import io.github.invertingproxy.websocket.MessageAssembler;
import io.github.invertingproxy.websocket.Pongs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.MessageTooLargeException;

/**
 * One agent's {@code agent/channel} (docs/protocol.md, "Channel extension"). The store sends it its
 * backend's small requests, each as one binary message written on the client's thread; the agent
 * answers each with one message, which is handed to the waiting client's thread, so that this
 * socket's reader never waits for a client.
 */
final class AgentChannel implements FrameHandler, ChannelDelivery.Channel {
  private static final Logger LOG = Logger.getLogger(AgentChannel.class.getName());
  /** A channel is pinged when quiet for this long, and closed when nothing came back for three times as long. */
  static final Duration PING_INTERVAL = Duration.ofSeconds(30);

  private final String backendId;
  private final BooleanSupplier mayServe;
  private final ChannelDelivery store;
  private final ScheduledExecutorService timer;
  private final Consumer<AgentChannel> onClosed;
  private volatile CoreSession session;
  private volatile boolean open;
  private volatile long lastReceivedNanos;
  private ScheduledFuture<?> keepalive;
  private final MessageAssembler assembler = new MessageAssembler(ChannelFrame.MAX_FRAME_BYTES);

  /** @param mayServe whether the agent may still serve the backend; asked before each request */
  AgentChannel(String backendId, BooleanSupplier mayServe, ChannelDelivery store, ScheduledExecutorService timer,
      Consumer<AgentChannel> onClosed) {
    this.backendId = requireNonNull(backendId, "backendId");
    this.mayServe = requireNonNull(mayServe, "mayServe");
    this.store = requireNonNull(store, "store");
    this.timer = requireNonNull(timer, "timer");
    this.onClosed = requireNonNull(onClosed, "onClosed");
  }

  @Override
  public void onOpen(CoreSession session, Callback callback) {
    this.session = session;
    session.setMaxFrameSize(ChannelFrame.MAX_FRAME_BYTES);
    session.setMaxBinaryMessageSize(ChannelFrame.MAX_FRAME_BYTES);
    session.setMaxTextMessageSize(1024);
    // The pings below watch the agent; the connection's own timeout is only a backstop.
    session.setIdleTimeout(PING_INTERVAL.multipliedBy(4));
    lastReceivedNanos = System.nanoTime();
    open = true;
    store.attachChannel(backendId, this);
    long every = PING_INTERVAL.toNanos();
    keepalive = timer.scheduleWithFixedDelay(this::keepAlive, every, every, TimeUnit.NANOSECONDS);
    LOG.info("backend \"" + backendId + "\": agent channel opened");
    callback.succeeded();
    session.demand();
  }

  @Override
  public boolean send(String requestId, ExchangeRequest request) {
    CoreSession s = session;
    if (!open || s == null || !s.isOutputOpen()) {
      return false;
    }
    if (!mayServe.getAsBoolean()) {
      // The backend's record changed since the channel opened: its requests are no longer this agent's.
      open = false;
      store.detachChannel(backendId, this);
      LOG.warning("backend \"" + backendId + "\": closing an agent channel whose agent may no longer serve it");
      s.close(CloseStatus.POLICY_VIOLATION, "this agent may no longer serve backend " + backendId, Callback.NOOP);
      return false;
    }
    ByteArrayOutputStream wire = new ByteArrayOutputStream(512);
    try {
      request.writeTo(wire);
    } catch (IOException e) {
      return true; // the store told the client already
    }
    ByteBuffer frame = ChannelFrame.encode(new ChannelFrame.Request(requestId, request.user(),
        RequestStartTime.format(request.startTime()), wire.toByteArray()));
    // A frame that fails was not written whole, so the agent never had the request: it goes back.
    s.sendFrame(new Frame(OpCode.BINARY, frame), Callback.from(() -> {}, failure -> store.requeue(requestId)), false);
    return true;
  }

  @Override
  public void onFrame(Frame frame, Callback callback) {
    lastReceivedNanos = System.nanoTime();
    CoreSession s = session;
    switch (frame.getOpCode()) {
      case OpCode.PING -> {
        Pongs.answer(s, frame, callback);
        return;
      }
      case OpCode.BINARY, OpCode.CONTINUATION -> {
        ByteBuffer whole;
        try {
          whole = assembler.add(frame);
        } catch (MessageTooLargeException e) {
          callback.succeeded();
          LOG.warning("backend \"" + backendId + "\": closing the agent channel: the agent sent " + e.getMessage());
          s.close(CloseStatus.MESSAGE_TOO_LARGE, "a channel message is at most " + ChannelFrame.MAX_FRAME_BYTES + " bytes",
              Callback.NOOP);
          return;
        }
        if (whole != null) {
          // Decoding copies what it keeps, so the frame's buffer may go back afterwards.
          receive(whole);
        }
        callback.succeeded();
      }
      case OpCode.TEXT -> {
        callback.succeeded();
        s.close(CloseStatus.BAD_DATA, "the channel carries binary messages only", Callback.NOOP);
        return;
      }
      default -> callback.succeeded(); // PONG; CLOSE is answered by the session
    }
    s.demand();
  }

  private void receive(ByteBuffer bytes) {
    ChannelFrame frame;
    try {
      frame = ChannelFrame.decode(bytes);
    } catch (MalformedMessageException e) {
      LOG.warning("backend \"" + backendId + "\": closing the agent channel: " + e.getMessage());
      session.close(CloseStatus.PROTOCOL, e.getMessage(), Callback.NOOP);
      return;
    }
    if (!(frame instanceof ChannelFrame.Response response)) {
      LOG.warning("backend \"" + backendId + "\": closing the agent channel: the agent sent a request frame");
      session.close(CloseStatus.PROTOCOL, "an agent sends only response frames", Callback.NOOP);
      return;
    }
    if (!store.deliver(backendId, response.id(), response.message())) {
      LOG.fine(() -> "backend \"" + backendId + "\": the response to " + response.id()
          + " came over the channel, but no client waits for it");
    }
  }

  private void keepAlive() {
    CoreSession s = session;
    if (s == null || !open) {
      return;
    }
    if (System.nanoTime() - lastReceivedNanos > PING_INTERVAL.multipliedBy(3).toNanos()) {
      LOG.warning("backend \"" + backendId + "\": closing the agent channel: nothing came back for "
          + PING_INTERVAL.multipliedBy(3).toSeconds() + " s");
      s.abort();
      return;
    }
    s.sendFrame(new Frame(OpCode.PING, BufferUtil.EMPTY_BUFFER), Callback.NOOP, false);
  }

  /** Closes the channel (1001) when the proxy shuts down. */
  void shutDown() {
    CoreSession s = session;
    if (s != null && open) {
      s.close(CloseStatus.SHUTDOWN, "proxy shutting down", Callback.NOOP);
    }
  }

  @Override
  public void onError(Throwable cause, Callback callback) {
    LOG.log(Level.FINE, "backend \"" + backendId + "\": agent channel failed", cause);
    callback.succeeded();
  }

  @Override
  public void onClosed(CloseStatus status, Callback callback) {
    open = false;
    store.detachChannel(backendId, this);
    if (keepalive != null) {
      keepalive.cancel(false);
    }
    LOG.info("backend \"" + backendId + "\": agent channel closed (" + status.getCode()
        + (status.getReason() == null || status.getReason().isEmpty() ? "" : ", " + status.getReason()) + ")");
    onClosed.accept(this);
    callback.succeeded();
  }

}
