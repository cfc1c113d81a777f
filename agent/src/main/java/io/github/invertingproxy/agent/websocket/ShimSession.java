package io.github.invertingproxy.agent.websocket;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * One shimmed socket: a real WebSocket from the agent to the backend, whose messages wait here for
 * the page's next {@code poll}, and to which the page's {@code data} calls write.
 *
 * <p>Backpressure: once {@value #HIGH_WATER} bytes of messages wait for the page, no more frames are
 * read from the backend until a poll takes them.
 */
final class ShimSession implements FrameHandler {
  static final int HIGH_WATER = 4 * 1024 * 1024;
  private static final long WRITE_TIMEOUT_MS = 60_000;

  /** A whole message from the backend. */
  record Message(boolean binary, byte[] data) {}

  final String id;
  final int version;
  private final long maxMessageSize;
  private final CompletableFuture<CoreSession> opened = new CompletableFuture<>();
  // Guarded by this.
  private final ArrayDeque<Message> waiting = new ArrayDeque<>();
  private long waitingBytes;
  private boolean demandPaused;
  private CloseStatus closed;
  // Only touched from onFrame.
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private boolean partialBinary;
  private volatile long lastActivityNanos = System.nanoTime();

  ShimSession(String id, int version, long maxMessageSize) {
    this.id = id;
    this.version = version;
    this.maxMessageSize = maxMessageSize;
  }

  CoreSession session() {
    return opened.getNow(null);
  }

  String subprotocol() {
    CoreSession s = session();
    return s == null ? null : s.getNegotiatedSubProtocol();
  }

  void touch() {
    lastActivityNanos = System.nanoTime();
  }

  long idleNanos() {
    return System.nanoTime() - lastActivityNanos;
  }

  /** The backend's close, once the socket is closed; null while open. */
  synchronized CloseStatus closeStatus() {
    return closed;
  }

  @Override
  public void onOpen(CoreSession session, Callback callback) {
    session.setAutoFragment(false);
    session.setMaxFrameSize(maxMessageSize);
    session.setMaxTextMessageSize(maxMessageSize);
    session.setMaxBinaryMessageSize(maxMessageSize);
    callback.succeeded();
    opened.complete(session);
    session.demand();
  }

  @Override
  public void onFrame(Frame frame, Callback callback) {
    CoreSession session = session();
    switch (frame.getOpCode()) {
      case OpCode.PING -> {
        session.sendFrame(new Frame(OpCode.PONG, BufferUtil.copy(frame.getPayload())),
            Callback.from(() -> { callback.succeeded(); session.demand(); }, callback::failed), false);
        return;
      }
      case OpCode.PONG -> {
        callback.succeeded();
        session.demand();
        return;
      }
      case OpCode.CLOSE -> {
        callback.succeeded();
        return;
      }
      case OpCode.TEXT, OpCode.BINARY -> {
        partial.reset();
        partialBinary = frame.getOpCode() == OpCode.BINARY;
      }
      default -> { }
    }
    if (partial.size() + (long) frame.getPayloadLength() > maxMessageSize) {
      callback.succeeded();
      session.close(CloseStatus.MESSAGE_TOO_LARGE, "message larger than " + maxMessageSize + " bytes", Callback.NOOP);
      return;
    }
    if (frame.hasPayload()) {
      ByteBuffer payload = frame.getPayload().slice();
      byte[] bytes = new byte[payload.remaining()];
      payload.get(bytes);
      partial.write(bytes, 0, bytes.length);
    }
    callback.succeeded();
    boolean demand = true;
    if (frame.isFin()) {
      synchronized (this) {
        waiting.add(new Message(partialBinary, partial.toByteArray()));
        waitingBytes += partial.size();
        if (waitingBytes >= HIGH_WATER) {
          demandPaused = true;
          demand = false;
        }
        notifyAll();
      }
      partial.reset();
    }
    if (demand) {
      session.demand();
    }
  }

  @Override
  public void onError(Throwable cause, Callback callback) {
    opened.completeExceptionally(cause);
    callback.succeeded();
  }

  @Override
  public void onClosed(CloseStatus status, Callback callback) {
    opened.completeExceptionally(new IllegalStateException("closed: " + status));
    synchronized (this) {
      closed = status;
      notifyAll();
    }
    callback.succeeded();
  }

  /**
   * Waits up to {@code maxWaitMillis} for messages from the backend and takes all that wait.
   *
   * @return the messages; empty when none came in time
   * @throws ClosedException once the socket is closed and every message was taken
   */
  List<Message> poll(long maxWaitMillis) throws ClosedException, InterruptedException {
    List<Message> taken = new ArrayList<>();
    boolean resume = false;
    synchronized (this) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
      while (waiting.isEmpty() && closed == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return taken;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      if (waiting.isEmpty()) {
        throw new ClosedException(closed);
      }
      taken.addAll(waiting);
      waiting.clear();
      waitingBytes = 0;
      if (demandPaused) {
        demandPaused = false;
        resume = true;
      }
    }
    if (resume) {
      session().demand();
    }
    return taken;
  }

  /** Writes one whole message to the backend, waiting until it is written. */
  void send(boolean binary, byte[] data) throws ClosedException, InterruptedException {
    CoreSession session = session();
    synchronized (this) {
      if (closed != null || session == null || !session.isOutputOpen()) {
        throw new ClosedException(closed);
      }
    }
    FutureCallback written = new FutureCallback();
    session.sendFrame(new Frame(binary ? OpCode.BINARY : OpCode.TEXT, true, ByteBuffer.wrap(data)), written, false);
    try {
      written.get(WRITE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new ClosedException(closeStatus());
    }
  }

  /** Closes the backend socket with {@code code}. */
  void close(int code, String reason) {
    CoreSession session = session();
    if (session != null && session.isOutputOpen()) {
      session.close(code, reason, Callback.NOOP);
    }
  }

  /** The backend socket is closed, or was closed before; it stays closed. */
  static final class ClosedException extends Exception {
    final CloseStatus status;

    ClosedException(CloseStatus status) {
      super(status == null ? "closed" : "closed: " + status.getCode());
      this.status = status;
    }
  }

  static String text(byte[] data) {
    return new String(data, StandardCharsets.UTF_8);
  }
}
