package io.github.invertingproxy.agent.channel;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.websocket.MessageAssembler;
import io.github.invertingproxy.websocket.Pongs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.MessageTooLargeException;

/**
 * One {@code agent/channel} WebSocket (docs/protocol.md, "Channel extension"): each binary message
 * from the proxy, reassembled from its fragments, is one {@link ChannelFrame.Request}; responses go
 * back whole, one message each. Anything else from the proxy is a protocol error that closes it.
 */
public final class ChannelSocket implements FrameHandler {
  private static final Logger LOG = Logger.getLogger(ChannelSocket.class.getName());
  /** The keepalive ping's payload, as on relayed sockets: the proxy answers it and passes it nowhere. */
  private static final ByteBuffer KEEPALIVE =
      ByteBuffer.wrap("inverting-proxy keepalive".getBytes(StandardCharsets.US_ASCII)).asReadOnlyBuffer();
  /** The most a response frame may take to be written before the socket counts as stuck. */
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

  /** What the socket reports to its owner; called on Jetty's threads, so must not block. */
  interface Listener {
    void received(ChannelFrame.Request request, ChannelSocket via);

    /**
     * Called after each frame with what reads the next one: run it now, or later to hold the
     * channel back while the agent holds too much (see {@link HeldRequests}).
     */
    default void readOn(Runnable readNext) {
      readNext.run();
    }

    /**
     * Called once, when the socket has closed.
     *
     * @param agentReason why the agent closed it, or null when the proxy closed it or it broke
     * @param failure what broke it, or null
     */
    void closed(ChannelSocket socket, CloseStatus status, String agentReason, Throwable failure);
  }

  private final Listener listener;
  private final Duration idleTimeout;
  private final AtomicBoolean closeSent = new AtomicBoolean();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile CoreSession session;
  private volatile String agentReason;
  private volatile Throwable failure;
  private volatile long lastReceivedNanos = System.nanoTime();
  /** The agent reads no frame for now (see {@link Listener#readOn}): a silence that proves nothing. */
  private volatile boolean readsHeldBack;
  private volatile long lastPingNanos = System.nanoTime();
  private volatile long openedNanos;
  /** Response frames handed to Jetty and not yet written, and when the last write ended. */
  private final AtomicInteger unwritten = new AtomicInteger();
  private volatile long lastWrittenNanos;
  private final MessageAssembler assembler = new MessageAssembler(ChannelFrame.MAX_FRAME_BYTES);

  /** @param idleTimeout the connection's own idle timeout, a backstop behind {@link #watch} */
  ChannelSocket(Listener listener, Duration idleTimeout) {
    this.listener = requireNonNull(listener, "listener");
    this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
  }

  /** When the socket opened (System.nanoTime); 0 while it has not. */
  long openedNanos() {
    return openedNanos;
  }

  /** Whether a response may be sent: open, and no close sent or received. */
  public boolean isOpen() {
    CoreSession s = session;
    return s != null && !closeSent.get() && s.isOutputOpen();
  }

  /**
   * Sends the response to request {@code id} in one frame, and waits until it is written.
   *
   * @param response the whole response in HTTP/1.1 wire format
   * @return false when it was not sent because the socket is closed or closing, or broke while
   *     writing; the caller then posts the response with {@code agent/response}
   */
  public boolean send(String id, byte[] response) {
    CompletableFuture<Boolean> written = new CompletableFuture<>();
    send(id, response, written::complete);
    try {
      return written.get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      return false;
    } catch (TimeoutException e) {
      // A proxy that reads nothing for this long is gone; the response goes another way.
      stuck(e);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Sends the response to request {@code id} in one frame without waiting; {@code done} hears true
   * once it is written, or false when it was not sent (as for {@link #send(String, byte[])}), on the
   * thread that ends the write. A write that takes longer than {@link #WRITE_TIMEOUT} is ended by
   * {@link #watch}, which aborts the socket.
   */
  public void send(String id, byte[] response, Consumer<Boolean> done) {
    CoreSession s = session;
    if (s == null || !isOpen()) {
      done.accept(false);
      return;
    }
    if (unwritten.getAndIncrement() == 0) {
      lastWrittenNanos = System.nanoTime();
    }
    Frame frame = new Frame(OpCode.BINARY, ChannelFrame.encode(new ChannelFrame.Response(id, response)));
    s.sendFrame(frame, Callback.from(() -> {
      lastWrittenNanos = System.nanoTime();
      unwritten.decrementAndGet();
      done.accept(true);
    }, x -> {
      unwritten.decrementAndGet();
      LOG.log(Level.FINE, "the channel closed while a response was written", x);
      done.accept(false);
    }), false);
  }

  private void stuck(TimeoutException e) {
    CoreSession s = session;
    failure = e;
    if (s != null) {
      s.abort();
    }
  }

  /**
   * Closes the socket with {@code code}, once; the reason is reported as the agent's. A socket not
   * open yet is closed (1001) as soon as it opens.
   */
  void close(int code, String reason) {
    CoreSession s;
    synchronized (this) {
      s = session;
      if (s == null) {
        agentReason = reason;
        return;
      }
      if (!closeSent.compareAndSet(false, true)) {
        return;
      }
      agentReason = reason;
    }
    s.close(code, reason, Callback.from(() -> {}, f -> s.abort()));
  }

  /** Waits up to {@code timeout} for the socket to have closed; true when it has. */
  boolean awaitClosed(Duration timeout) throws InterruptedException {
    return closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Pings a socket that has been quiet for {@code ping}; closes one from which nothing came for {@code idle}. */
  void watch(Duration ping, Duration idle) {
    CoreSession s = session;
    if (s == null || !isOpen()) {
      return;
    }
    long now = System.nanoTime();
    // Frames are written in order: no write ended for this long means the oldest one is stuck.
    if (unwritten.get() > 0 && now - lastWrittenNanos >= WRITE_TIMEOUT.toNanos()) {
      stuck(new TimeoutException("no response frame written for " + WRITE_TIMEOUT.toSeconds() + " s"));
      return;
    }
    if (readsHeldBack) {
      return;
    }
    if (now - lastReceivedNanos >= idle.toNanos()) {
      close(CloseStatus.SHUTDOWN, "nothing from the proxy, not even a pong, for " + idle.toSeconds() + " s");
    } else if (now - lastReceivedNanos >= ping.toNanos() && now - lastPingNanos >= ping.toNanos()) {
      lastPingNanos = now;
      s.sendFrame(new Frame(OpCode.PING, KEEPALIVE.slice()), Callback.NOOP, false);
    }
  }

  @Override
  public void onOpen(CoreSession coreSession, Callback callback) {
    // Frames arrive whole up to the largest message: no automatic fragmenting of larger frames, which
    // the connection then refuses with 1009 itself.
    coreSession.setAutoFragment(false);
    coreSession.setMaxFrameSize(ChannelFrame.MAX_FRAME_BYTES);
    coreSession.setMaxBinaryMessageSize(ChannelFrame.MAX_FRAME_BYTES);
    coreSession.setIdleTimeout(idleTimeout);
    lastReceivedNanos = System.nanoTime();
    // Never 0, which means "not opened".
    openedNanos = lastReceivedNanos | 1;
    String closedEarly;
    synchronized (this) {
      session = coreSession;
      closedEarly = agentReason;
    }
    callback.succeeded();
    if (closedEarly != null) {
      close(CloseStatus.SHUTDOWN, closedEarly);
    }
    demand(coreSession);
  }

  @Override
  public void onFrame(Frame frame, Callback callback) {
    lastReceivedNanos = System.nanoTime();
    CoreSession s = session;
    switch (frame.getOpCode()) {
      case OpCode.PING -> {
        if (isOpen()) {
          Pongs.answer(s, frame, callback);
          return;
        }
      }
      case OpCode.PONG -> {
        // Only shows the proxy is there, which lastReceivedNanos has noted.
      }
      case OpCode.CLOSE -> {
        // Jetty answers the close once the callback completes; nothing more comes.
        callback.succeeded();
        return;
      }
      case OpCode.BINARY, OpCode.CONTINUATION -> message(frame);
      default -> close(CloseStatus.BAD_DATA, "the proxy sent a text message; the channel carries binary ones only");
    }
    callback.succeeded();
    // Read on even after closing: the proxy's answer to the close still has to arrive.
    readsHeldBack = true;
    listener.readOn(() -> {
      readsHeldBack = false;
      lastReceivedNanos = System.nanoTime();
      demand(s);
    });
  }

  /** Adds a data frame to the message it belongs to; a complete message goes to the listener. */
  private void message(Frame frame) {
    // Requests that arrive after the agent sent its close were sent before the proxy saw it: they
    // are forwarded all the same, and answered with agent/response.
    ByteBuffer whole;
    try {
      whole = assembler.add(frame);
    } catch (MessageTooLargeException e) {
      close(CloseStatus.MESSAGE_TOO_LARGE, "the proxy sent a message larger than " + ChannelFrame.MAX_FRAME_BYTES
          + " bytes");
      return;
    }
    if (whole == null) {
      return;
    }
    ChannelFrame decoded;
    try {
      decoded = ChannelFrame.decode(whole);
    } catch (MalformedMessageException e) {
      close(CloseStatus.PROTOCOL, "the proxy sent an unreadable frame: " + e.getMessage());
      return;
    }
    if (decoded instanceof ChannelFrame.Request request) {
      listener.received(request, this);
    } else {
      close(CloseStatus.PROTOCOL, "the proxy sent a response frame (" + decoded.id() + "); only requests go that way");
    }
  }

  @Override
  public void onError(Throwable cause, Callback callback) {
    failure = cause;
    callback.succeeded();
  }

  @Override
  public void onClosed(CloseStatus status, Callback callback) {
    closeSent.set(true);
    try {
      listener.closed(this, status, agentReason, failure);
    } finally {
      closed.countDown();
      callback.succeeded();
    }
  }

  private static void demand(CoreSession session) {
    try {
      session.demand();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "no more frames from a closed channel", e);
    }
  }
}
