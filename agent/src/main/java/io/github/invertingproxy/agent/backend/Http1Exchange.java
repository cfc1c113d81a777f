package io.github.invertingproxy.agent.backend;

import io.github.invertingproxy.agent.http.ConnectionPool;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.impl.io.ChunkedInputStream;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.protocol.HttpCoreContext;

/** One request replayed over HTTP/1.1 whose response head has arrived; its body is still on the connection. */
final class Http1Exchange implements BackendExchange {
  private final Origin backend;
  private final ClassicHttpRequest request;
  private final ClassicHttpResponse response;
  private final StreamedRequestBody requestBody;
  private final ConnectionPool.Lease lease;
  private final HttpCoreContext context;
  private final HttpRequestExecutor executor;
  private final BackendClient.Deadline deadline;
  private volatile boolean bodyEnded;

  Http1Exchange(Origin backend, ClassicHttpRequest request, ClassicHttpResponse response,
      StreamedRequestBody requestBody, ConnectionPool.Lease lease, HttpCoreContext context,
      HttpRequestExecutor executor, BackendClient.Deadline deadline) {
    this.backend = backend;
    this.request = request;
    this.response = response;
    this.requestBody = requestBody;
    this.lease = lease;
    this.context = context;
    this.executor = executor;
    this.deadline = deadline;
  }

  int status() {
    return response.getCode();
  }

  /** True when the whole request body went to the backend (or there was none). */
  @Override
  public boolean requestBodySent() {
    return requestBody == null || requestBody.complete();
  }

  /** True when --request-forwarding-timeout cut the exchange off. */
  @Override
  public boolean timedOut() {
    return deadline.expired();
  }

  BackendClient.Deadline deadline() {
    return deadline;
  }

  /**
   * The response as the proxy should relay it: status line, end-to-end headers in order, and the body
   * framed by the backend's own Content-Length when it sent one (so the client gets it too), else
   * chunked with the backend's trailers.
   *
   * @throws BackendFailure when a header cannot travel (it would not survive the proxy's parser)
   */
  // Whole on purpose: the framing decision depends on every branch above it (status, HEAD, headers).
  @Override
  public SerializedResponse serialize() throws BackendFailure {
    Headers received;
    ResponseHead head;
    HttpEntity entity = response.getEntity();
    BodyFraming framing;
    try {
      received = headersOf(response.getHeaders());
      Headers headers = HopByHopHeaders.strip(received);
      if (entity == null) {
        framing = BodyFraming.NONE; // HEAD, 1xx, 204, 304: Content-Length, if any, stays as information
      } else if (received.contains("Transfer-Encoding") || entity.getContentLength() < 0) {
        // Transfer-Encoding outranks Content-Length (RFC 9112 6.3), and a body that ends at close
        // must be chunked to end at all inside the proxy call.
        headers = headers.without(f -> f.is("Content-Length")).plus(new HeaderField("Transfer-Encoding", "chunked"));
        framing = BodyFraming.CHUNKED;
      } else {
        long length = entity.getContentLength();
        framing = length == 0 ? BodyFraming.NONE : new BodyFraming.Length(length);
      }
      String reason = response.getReasonPhrase() == null ? "" : response.getReasonPhrase();
      head = new ResponseHead(response.getCode(), reason, headers);
    } catch (IllegalArgumentException e) {
      throw new BackendFailure("backend " + backend + " sent a response the proxy could not carry: "
          + e.getMessage(), e);
    }
    if (entity == null) {
      bodyEnded = true;
      return new SerializedResponse(head, framing, InputStream.nullInputStream(), Headers::empty);
    }
    InputStream content;
    try {
      content = entity.getContent();
    } catch (IOException e) {
      throw BackendFailure.failed(backend, e);
    }
    Supplier<Headers> trailers = content instanceof ChunkedInputStream chunked
        ? () -> trailersOf(chunked.getFooters())
        : Headers::empty;
    InputStream body = new FilterInputStream(content) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
          bodyEnded = true;
        }
        return b;
      }

      @Override
      public int read(byte[] buffer, int off, int len) throws IOException {
        int n = super.read(buffer, off, len);
        if (n < 0) {
          bodyEnded = true;
        }
        return n;
      }

      @Override
      public void close() {
        // The exchange decides whether the connection is kept; closing a body here would drain it.
      }
    };
    // Its available() is httpcore's count of bytes already buffered from the backend.
    return new SerializedResponse(head, framing, body, trailers, true);
  }

  /** Gives the backend connection back: for reuse when the response was read to its end, else closed. */
  @Override
  public void close() {
    deadline.cancel();
    if (!bodyEnded || !requestBodySent() || deadline.expired()) {
      lease.discard();
      return;
    }
    try {
      lease.release(executor.keepAlive(request, response, lease.connection(), context));
    } catch (IOException e) {
      lease.discard();
    }
  }

  private static Headers headersOf(Header[] all) {
    List<HeaderField> list = new ArrayList<>(all.length);
    for (Header h : all) {
      list.add(new HeaderField(h.getName(), h.getValue() == null ? "" : h.getValue()));
    }
    return Headers.of(list);
  }

  private static Headers trailersOf(Header[] footers) {
    if (footers == null || footers.length == 0) {
      return Headers.empty();
    }
    return headersOf(footers);
  }
}
