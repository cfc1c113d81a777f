package io.github.invertingproxy.agent;

import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;

/**
 * A client request read from {@code agent/request}: its head, and its body still streaming from the
 * proxy's connection, which this object holds until closed.
 */
final class FetchedRequest implements Closeable {
  /** Whether the proxy's connection may serve another call, asked once the answer is read. */
  interface KeepAlive {
    boolean check() throws IOException;
  }

  private final String id;
  private final String userId;
  private final Instant startTime;
  private final IncomingMessage<RequestHead> message;
  private final InputStream answer;
  private final KeepAlive keepAlive;
  private final ConnectionPool.Lease lease;
  private boolean bodyConsumed;
  private boolean closed;

  FetchedRequest(String id, String userId, Instant startTime, IncomingMessage<RequestHead> message,
      InputStream answer, KeepAlive keepAlive, ConnectionPool.Lease lease) {
    this.id = id;
    this.userId = userId;
    this.startTime = startTime;
    this.message = message;
    this.answer = answer;
    this.keepAlive = keepAlive;
    this.lease = lease;
  }

  String id() {
    return id;
  }

  /** The end user's email as the proxy reported it; empty on a proxy without user authentication. */
  String userId() {
    return userId;
  }

  /** When the client's request reached the proxy. */
  Instant startTime() {
    return startTime;
  }

  IncomingMessage<RequestHead> message() {
    return message;
  }

  /** Records that the body was read to its end, so the connection can be kept for another call. */
  void bodyConsumed() {
    bodyConsumed = true;
  }

  /**
   * Gives the proxy connection back: for reuse when the whole answer was read, else closed, because
   * draining an unread body could take as long as the body is. Closing again does nothing.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!bodyConsumed) {
      lease.discard();
      return;
    }
    try {
      // The serialized request ended; only the end of the proxy's own framing may still be unread.
      if (answer.read() != -1) {
        lease.discard();
        return;
      }
      answer.close();
      lease.release(keepAlive.check());
    } catch (IOException e) {
      lease.discard();
    }
  }
}
