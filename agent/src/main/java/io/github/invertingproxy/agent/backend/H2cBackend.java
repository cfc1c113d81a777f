package io.github.invertingproxy.agent.backend;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamRequestContent;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * {@code --force-http2}: the backend over HTTP/2 without TLS and without an upgrade (prior knowledge),
 * as the original agent does with Go's {@code http2.Transport{AllowHTTP: true}}. Jetty's client with
 * everything that would change an exchange turned off: no redirects, cookies, decompression,
 * authentication or User-Agent of its own. The client's {@code Host} becomes {@code :authority}, as Go
 * does it (Jetty adds the port, {@code :80}, when the Host names none); every connection still goes to
 * the backend's address.
 */
final class H2cBackend implements Closeable {
  /** Fields HTTP/2 forbids (RFC 9113 8.2.2); their meaning is the connection's, not the request's. */
  private static final Set<String> CONNECTION_SPECIFIC =
      Set.of("host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer");
  private static final long IDLE_TIMEOUT_MILLIS = Duration.ofSeconds(25).toMillis();
  private static final long CONNECT_TIMEOUT_MILLIS = Duration.ofSeconds(10).toMillis();

  private final Origin origin;
  private final Duration forwardingTimeout;
  private final HttpClient client;

  H2cBackend(Origin origin, Duration forwardingTimeout) {
    this.origin = requireNonNull(origin, "origin");
    this.forwardingTimeout = requireNonNull(forwardingTimeout, "forwardingTimeout");
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setName("inverting-proxy-agent-h2c");
    threads.setDaemon(true);
    client = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client()));
    client.setExecutor(threads);
    client.setFollowRedirects(false);
    client.setUserAgentField(null);
    client.setHttpCookieStore(new HttpCookieStore.Empty());
    client.setIdleTimeout(IDLE_TIMEOUT_MILLIS);
    client.setConnectTimeout(CONNECT_TIMEOUT_MILLIS);
    // Whatever host the client named, the connection goes to the backend.
    client.setSocketAddressResolver((host, port, context, promise) ->
        promise.succeeded(List.of(new InetSocketAddress(origin.host(), origin.port()))));
    try {
      client.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the HTTP/2 client: " + e.getMessage(), e);
    }
    // Cleared after start, which installs the defaults: the response must reach the proxy as it came.
    client.getContentDecoderFactories().clear();
    client.getProtocolHandlers().clear();
  }

  Origin origin() {
    return origin;
  }

  BackendExchange send(RequestHead head, IncomingMessage<RequestHead> request) throws BackendFailure {
    String authority = head.headers().first("Host").orElse(origin.authority()).trim();
    Request call;
    try {
      call = client.newRequest(URI.create("http://" + authority + head.target()));
    } catch (IllegalArgumentException e) {
      throw new BackendFailure("request target " + head.target() + " for host " + authority
          + " is not a URI: " + e.getMessage(), e);
    }
    call.method(head.method());
    call.headers(fields -> {
      fields.clear();
      for (HeaderField f : head.headers()) {
        if (!CONNECTION_SPECIFIC.contains(f.name().toLowerCase(Locale.ROOT))) {
          fields.add(f.name(), f.value());
        }
      }
    });
    RequestBody body = attachBody(call, request);
    AtomicBoolean timedOut = new AtomicBoolean();
    if (!forwardingTimeout.isZero()) {
      call.timeout(forwardingTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }
    call.onComplete(result -> {
      if (result.getFailure() instanceof TimeoutException) {
        timedOut.set(true);
      }
    });
    InputStreamResponseListener listener = new InputStreamResponseListener();
    call.send(listener);
    Response response;
    try {
      response = listener.get(Long.MAX_VALUE, TimeUnit.DAYS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      call.abort(e);
      throw new BackendFailure("interrupted while waiting for backend " + origin, e);
    } catch (TimeoutException e) {
      throw BackendFailure.timedOut(origin, forwardingTimeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof TimeoutException || timedOut.get()) {
        throw BackendFailure.timedOut(origin, forwardingTimeout, (Exception) cause);
      }
      if (body != null && body.failure != null) {
        throw BackendFailure.requestBodyUnreadable(body.failure);
      }
      Exception reason = cause instanceof Exception ex ? ex : new IOException(cause);
      if (cause instanceof ConnectException || cause.getCause() instanceof ConnectException) {
        throw BackendFailure.unreachable(origin, reason);
      }
      throw new BackendFailure("backend " + origin + " failed over HTTP/2: " + cause, reason);
    }
    return new H2cExchange(head, response, listener, body, timedOut);
  }

  /** Gives the client's body to {@code call}, with its trailers when chunked; null when it has none. */
  private RequestBody attachBody(Request call, IncomingMessage<RequestHead> request) {
    if (request.framing() instanceof BodyFraming.None) {
      return null;
    }
    RequestBody body = new RequestBody(request.body());
    // No content type of its own: the client's Content-Type, if any, is among the copied fields.
    call.body(new InputStreamRequestContent(null, body, new ByteBufferPool.Sized(null, false, 16 * 1024)));
    if (request.framing() instanceof BodyFraming.Chunked) {
      call.trailersSupplier(() -> {
        HttpFields.Mutable trailers = HttpFields.build();
        for (HeaderField f : request.trailers()) {
          trailers.add(f.name(), f.value());
        }
        return trailers;
      });
    }
    return body;
  }

  @Override
  public void close() {
    try {
      client.stop();
    } catch (Exception e) {
      // Stopping closes the connections; nothing is left to do when it fails.
    }
  }

  /** The client's request body as it arrives from the proxy; records whether it was read to its end. */
  private static final class RequestBody extends FilterInputStream {
    private volatile boolean complete;
    private volatile IOException failure;

    RequestBody(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        int n = super.read(b, off, len);
        if (n < 0) {
          complete = true;
        }
        return n;
      } catch (IOException e) {
        failure = e;
        throw new StreamedRequestBody.ProxyReadException(e);
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public void close() {
      // The proxy connection's owner decides what happens to it.
    }
  }

  /** One h2c exchange whose response head has arrived. */
  private final class H2cExchange implements BackendExchange {
    private final RequestHead request;
    private final Response response;
    private final InputStreamResponseListener listener;
    private final RequestBody body;
    private final AtomicBoolean timedOut;
    private volatile boolean bodyEnded;

    H2cExchange(RequestHead request, Response response, InputStreamResponseListener listener, RequestBody body,
        AtomicBoolean timedOut) {
      this.request = request;
      this.response = response;
      this.listener = listener;
      this.body = body;
      this.timedOut = timedOut;
    }

    @Override
    public boolean requestBodySent() {
      return body == null || body.complete;
    }

    @Override
    public boolean timedOut() {
      return timedOut.get();
    }

    @Override
    public SerializedResponse serialize() throws BackendFailure {
      int status = response.getStatus();
      List<HeaderField> fields = new ArrayList<>();
      ResponseHead head;
      BodyFraming framing;
      try {
        for (HttpField f : response.getHeaders()) {
          if (!CONNECTION_SPECIFIC.contains(f.getLowerCaseName())) {
            fields.add(new HeaderField(f.getName(), f.getValue() == null ? "" : f.getValue()));
          }
        }
        Headers headers = Headers.of(fields);
        long length = response.getHeaders().getLongField("Content-Length");
        boolean noBody = request.method().equals("HEAD") || status == 204 || status == 304 || status < 200;
        if (noBody) {
          framing = BodyFraming.NONE;
        } else if (length >= 0) {
          framing = length == 0 ? BodyFraming.NONE : new BodyFraming.Length(length);
        } else {
          headers = headers.plus(new HeaderField("Transfer-Encoding", "chunked"));
          framing = BodyFraming.CHUNKED;
        }
        String reason = HttpStatus.getMessage(status);
        head = new ResponseHead(status, reason == null ? "" : reason, headers);
      } catch (IllegalArgumentException e) {
        throw new BackendFailure("backend " + origin + " sent a response the proxy could not carry: "
            + e.getMessage(), e);
      }
      if (framing instanceof BodyFraming.None) {
        bodyEnded = true;
        return new SerializedResponse(head, framing, InputStream.nullInputStream(), Headers::empty);
      }
      InputStream content = new FilterInputStream(listener.getInputStream()) {
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          if (n < 0) {
            bodyEnded = true;
          }
          return n;
        }
      };
      return new SerializedResponse(head, framing, content, () -> trailersOf(response.getTrailers()));
    }

    @Override
    public void close() {
      if (!bodyEnded) {
        response.abort(new IOException("the agent stopped reading the response"));
      }
    }

    private Headers trailersOf(HttpFields trailers) {
      if (trailers == null || trailers.size() == 0) {
        return Headers.empty();
      }
      List<HeaderField> list = new ArrayList<>();
      for (HttpField f : trailers) {
        list.add(new HeaderField(f.getName(), f.getValue() == null ? "" : f.getValue()));
      }
      return Headers.of(list);
    }
  }
}
