package io.github.invertingproxy.agent.backend;

import io.github.invertingproxy.agent.http.SmallResponseReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** One connection of the {@link BackendLoop}; its reads and the bytes read belong to the selector's thread. */
final class LoopConnection {
  // Where the running exchange's request stands. The backend may answer while the thread that wrote
  // the request is still inside its write: the reader then leaves the connection's fate to it.
  /** The writer has not yet seen what its write took. */
  static final int WRITING = 0;
  /** The request went out whole. */
  static final int WRITTEN = 1;
  /** Part of it went; the rest is in {@code unwritten}, for the selector to write. */
  static final int PARTIAL = 2;
  /** The write failed; nothing more goes out. */
  static final int FAILED = 3;
  /** A small response was read while WRITING: the writer keeps or closes the connection. */
  static final int ANSWERED = 4;
  /** The response is to be handed over, waiting for the writer to say what is left to write. */
  static final int HANDING = 5;

  private final BackendLoop loop;
  final SocketChannel channel;
  /** The exchange running on it; whoever clears it ends that exchange. */
  final AtomicReference<LoopExchange> exchange = new AtomicReference<>();
  SelectionKey key;
  /** Whether it answered an exchange before: a failure before any byte may then only mean it went stale. */
  boolean reused;
  long idleSince;
  byte[] in = new byte[4096];
  int inLength;
  /** The end of the running exchange's request, while it waits for room to be written. */
  volatile ByteBuffer unwritten;
  /** One of WRITING, WRITTEN, PARTIAL, FAILED, ANSWERED, HANDING. */
  final AtomicInteger request = new AtomicInteger(WRITTEN);
  LoopExchange handingOff;

  LoopConnection(BackendLoop loop, SocketChannel channel) {
    this.loop = loop;
    this.channel = channel;
  }

  /** Writes {@code e}'s request on the calling thread; what does not fit now goes from the selector. */
  void write(LoopExchange e) {
    ByteBuffer bytes = ByteBuffer.wrap(e.request);
    request.set(WRITING);
    try {
      channel.write(bytes);
    } catch (IOException | RuntimeException ex) {
      if (exchange.compareAndSet(e, null)) {
        request.set(FAILED);
        closeQuietly();
        failOrRetry(e, ex);
      } else {
        wrote(FAILED);
      }
      return;
    }
    loop.writeReturned.run();
    if (!bytes.hasRemaining()) {
      wrote(WRITTEN);
    } else {
      unwritten = bytes;
      if (wrote(PARTIAL)) {
        loop.runOnLoop(() -> {
          if (key.isValid()) {
            key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
          }
        });
      }
    }
  }

  /**
   * Says what the write took; settles what the reader left waiting on it. True while the exchange
   * is still running here.
   */
  private boolean wrote(int outcome) {
    int was = request.compareAndExchange(WRITING, outcome);
    if (was == WRITING) {
      return true;
    }
    request.set(outcome);
    if (was == ANSWERED) {
      unwritten = null;
      // Kept only if the backend had the whole request before it answered.
      boolean kept = outcome == WRITTEN && !loop.closed && makeIdle();
      if (!kept || loop.closed) {
        closeQuietly(); // also when the loop stopped meanwhile, after closing its idle connections
      }
    } else if (was == HANDING) {
      loop.runOnLoop(() -> { });
    }
    return false;
  }

  void writeMore() {
    LoopExchange e = exchange.get();
    ByteBuffer rest = unwritten;
    if (rest == null) {
      key.interestOps(SelectionKey.OP_READ);
      return;
    }
    try {
      channel.write(rest);
    } catch (IOException ex) {
      if (e != null && exchange.compareAndSet(e, null)) {
        closeQuietly();
        failOrRetry(e, ex);
      }
      return;
    }
    if (!rest.hasRemaining()) {
      unwritten = null;
      request.set(WRITTEN);
      key.interestOps(SelectionKey.OP_READ);
    }
  }

  void read() {
    LoopExchange e = exchange.get();
    int n;
    loop.readBuffer.clear();
    try {
      n = channel.read(loop.readBuffer);
    } catch (IOException ex) {
      n = -2;
    }
    if (e == null) {
      // Idle: the backend closed it, or sent something unasked. Either way it serves no one now.
      if (!loop.idle.removeUnlessTaken(this)) {
        return; // taken meanwhile; the next read sees it
      }
      closeQuietly();
      return;
    }
    if (n < 0 && inLength == 0 && reused && e.retryable && !e.retried && exchange.compareAndSet(e, null)) {
      closeQuietly(); // stale: closed by the backend while idle, before the request reached it
      e.retried = true;
      loop.connect(e);
      return;
    }
    if (n > 0) {
      loop.readBuffer.flip();
      if (inLength + n > in.length) {
        in = Arrays.copyOf(in, Math.max(in.length * 2, inLength + n));
      }
      loop.readBuffer.get(in, inLength, n);
      inLength += n;
    }
    SmallResponseReader.Result r = n < 0 ? SmallResponseReader.NOT_SMALL : loop.reader.read(in, inLength, e.noBody);
    if (r == SmallResponseReader.NEED_MORE || !exchange.compareAndSet(e, null)) {
      return;
    }
    if (r == SmallResponseReader.NOT_SMALL) {
      // Includes a break: the blocking client reads up to it and says what broke.
      key.cancel();
      handingOff = e;
      loop.handOffs.add(this);
      return;
    }
    byte[] body = Arrays.copyOfRange(in, r.bodyStart(), r.bodyStart() + r.bodyLength());
    boolean keep = r.keepAlive() && r.end() == inLength && !loop.closed;
    inLength = 0;
    if (in.length > 4096) {
      in = new byte[4096];
    }
    // A backend that answered before it had the whole request leaves the rest of it on the way.
    int state = keep ? request.compareAndExchange(WRITING, ANSWERED) : FAILED;
    if (state != WRITING && (state != WRITTEN || !makeIdle())) {
      closeQuietly();
    }
    loop.inFlight.decrementAndGet();
    BackendLoop.tell(() -> e.listener.completed(r, body));
  }

  /** Keeps the connection for the next exchange; false when enough are kept already. */
  boolean makeIdle() {
    reused = true;
    idleSince = System.nanoTime();
    return loop.idle.offer(this);
  }

  private void failOrRetry(LoopExchange e, Exception cause) {
    if (reused && e.retryable && !e.retried) {
      e.retried = true;
      loop.connect(e);
    } else {
      loop.end(e, BackendFailure.failed(loop.origin, cause));
    }
  }

  void closeQuietly() {
    if (key != null) {
      key.cancel();
    }
    BackendLoop.closeQuietly(channel);
  }
}
