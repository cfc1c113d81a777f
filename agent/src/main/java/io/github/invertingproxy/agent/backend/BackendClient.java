package io.github.invertingproxy.agent.backend;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.http.ConnectionPool;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentLengthStrategy;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.impl.DefaultContentLengthStrategy;
import org.apache.hc.core5.http.impl.io.DefaultBHttpClientConnection;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;
import org.apache.hc.core5.http.message.BasicHeader;
import org.apache.hc.core5.http.message.MessageSupport;
import org.apache.hc.core5.http.message.StatusLine;
import org.apache.hc.core5.http.protocol.HttpCoreContext;

/**
 * Replays client requests against the backend over pooled keep-alive connections, byte for byte:
 * method, target as sent (still percent-encoded), every header in order and case, Host included, and
 * the body in its own framing. No request interceptor runs; nothing is added or rewritten here.
 */
public final class BackendClient implements Closeable {
  /** Methods that a stale keep-alive connection may be retried for, as Go's transport does. */
  public static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

  /**
   * Frames a replayed body as the client's request did, rather than as httpcore5 reads the headers,
   * which refuses repeated equal Content-Length fields that the protocol's reader accepts.
   */
  public static final ContentLengthStrategy FRAMING_OF_BODY = message -> {
    if (message instanceof ClassicHttpRequest r && r.getEntity() instanceof StreamedRequestBody body) {
      return body.isChunked() ? ContentLengthStrategy.CHUNKED : body.getContentLength();
    }
    return DefaultContentLengthStrategy.INSTANCE.determineLength(message);
  };

  private final ConnectionPool pool;
  private final HttpRequestExecutor executor;
  private final ScheduledExecutorService timer;
  private final Duration forwardingTimeout;
  private final H2cBackend h2c;

  /** @param forwardingTimeout the most one exchange may take, body included; zero for no limit */
  public BackendClient(ConnectionPool pool, HttpRequestExecutor executor, ScheduledExecutorService timer,
      Duration forwardingTimeout) {
    this.pool = requireNonNull(pool, "pool");
    this.executor = requireNonNull(executor, "executor");
    this.timer = requireNonNull(timer, "timer");
    this.forwardingTimeout = requireNonNull(forwardingTimeout, "forwardingTimeout");
    this.h2c = null;
  }

  private BackendClient(H2cBackend h2c) {
    this.pool = null;
    this.executor = null;
    this.timer = null;
    this.forwardingTimeout = null;
    this.h2c = h2c;
  }

  /** --force-http2: every request goes to {@code backend} over HTTP/2 without TLS (prior knowledge). */
  public static BackendClient overH2c(Origin backend, Duration forwardingTimeout) {
    return new BackendClient(new H2cBackend(backend, forwardingTimeout));
  }

  public Origin origin() {
    return h2c != null ? h2c.origin() : pool.origin();
  }

  /** Stops the HTTP/2 client, if any; the HTTP/1.1 pool is closed by its owner. */
  @Override
  public void close() {
    if (h2c != null) {
      h2c.close();
    }
  }

  /**
   * Sends {@code head} with the body of {@code request} and waits for the response head.
   *
   * @throws BackendFailure when no response head arrives: unreachable, refused, timed out, closed or
   *     malformed
   */
  public BackendExchange send(RequestHead head, IncomingMessage<RequestHead> request) throws BackendFailure {
    if (h2c != null) {
      return h2c.send(head, request);
    }
    boolean hasBody = !(request.framing() instanceof BodyFraming.None);
    for (int attempt = 0; ; attempt++) {
      ConnectionPool.Lease lease;
      try {
        lease = pool.lease();
      } catch (IOException | RuntimeException e) {
        throw BackendFailure.unreachable(pool.origin(), e);
      }
      StreamedRequestBody body = hasBody ? new StreamedRequestBody(request) : null;
      ClassicHttpRequest replay = replayOf(head);
      replay.setEntity(body);
      Deadline deadline = new Deadline(lease);
      HttpCoreContext context = HttpCoreContext.create();
      try {
        lease.setSocketTimeout(Duration.ZERO);
        ClassicHttpResponse response = executor.execute(replay, lease.connection(), context);
        return new Http1Exchange(pool.origin(), replay, response, body, lease, context, executor, deadline);
      } catch (IOException | HttpException | RuntimeException e) {
        deadline.cancel();
        lease.discard();
        if (deadline.expired()) {
          throw BackendFailure.timedOut(pool.origin(), forwardingTimeout, e);
        }
        if (e instanceof StreamedRequestBody.ProxyReadException) {
          throw BackendFailure.requestBodyUnreadable(e);
        }
        // A kept-alive connection that the backend closed meanwhile fails at once; a fresh one may not.
        if (attempt == 0 && lease.reused() && body == null && e instanceof IOException
            && IDEMPOTENT.contains(head.method())) {
          continue;
        }
        throw BackendFailure.failed(pool.origin(), e);
      }
    }
  }

  /**
   * Reads the response to a request that {@link BackendLoop} sent and then handed over with its
   * connection, from its first byte, as {@link #send} would have; interim 1xx responses are skipped.
   *
   * @param unwritten the end of the request, still to be written; null when it went out whole
   * @param giveBack where the connection goes when it can serve another request (the selector)
   * @param head the request as sent, which decides whether the response has a body and keeps the connection
   * @param remaining what is left of the forwarding timeout; zero for none
   * @throws BackendFailure when no usable response head arrives
   */
  public BackendExchange receive(SocketChannel channel, ByteBuffer readSoFar, ByteBuffer unwritten,
      Consumer<SocketChannel> giveBack, RequestHead head, Duration remaining) throws BackendFailure {
    ConnectionPool.Lease lease;
    try {
      lease = pool.adopt(channel, readSoFar, giveBack);
    } catch (IOException | RuntimeException e) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Failing anyway.
      }
      throw BackendFailure.failed(pool.origin(), e);
    }
    ClassicHttpRequest sent = replayOf(head);
    Deadline deadline = new Deadline(lease, remaining);
    try {
      // Under the deadline too: a backend that stops reading is cut off like one that stops answering.
      while (unwritten != null && unwritten.hasRemaining()) {
        channel.write(unwritten);
      }
      lease.setSocketTimeout(Duration.ZERO);
      DefaultBHttpClientConnection connection = lease.connection();
      ClassicHttpResponse response;
      do {
        response = connection.receiveResponseHeader();
        if (response.getCode() < 100) {
          throw new ProtocolException("Invalid response: " + new StatusLine(response));
        }
      } while (response.getCode() < 200 && response.getCode() != 101);
      if (MessageSupport.canResponseHaveBody(head.method(), response)) {
        connection.receiveResponseEntity(response);
      }
      return new Http1Exchange(pool.origin(), sent, response, null, lease, HttpCoreContext.create(), executor, deadline);
    } catch (IOException | HttpException | RuntimeException e) {
      deadline.cancel();
      lease.discard();
      if (deadline.expired()) {
        throw BackendFailure.timedOut(pool.origin(), forwardingTimeout, e);
      }
      throw BackendFailure.failed(pool.origin(), e);
    }
  }

  /** {@code head} as httpcore5 sends it: target as given, every field in order. */
  private static ClassicHttpRequest replayOf(RequestHead head) {
    ClassicHttpRequest replay = new BasicClassicHttpRequest(head.method(), (HttpHost) null, head.target());
    for (HeaderField f : head.headers()) {
      replay.addHeader(new BasicHeader(f.name(), f.value()));
    }
    return replay;
  }

  /** The --request-forwarding-timeout of one exchange: when it passes, the connection is cut. */
  final class Deadline {
    private final AtomicBoolean expired = new AtomicBoolean();
    private final ScheduledFuture<?> task;

    private Deadline(ConnectionPool.Lease lease) {
      this(lease, forwardingTimeout);
    }

    /** @param timeout zero for none */
    private Deadline(ConnectionPool.Lease lease, Duration timeout) {
      if (timeout.isZero()) {
        task = null;
      } else {
        task = timer.schedule(() -> {
          expired.set(true);
          lease.discard();
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
      }
    }

    boolean expired() {
      return expired.get();
    }

    Duration timeout() {
      return forwardingTimeout;
    }

    void cancel() {
      if (task != null) {
        task.cancel(false);
      }
    }
  }
}
