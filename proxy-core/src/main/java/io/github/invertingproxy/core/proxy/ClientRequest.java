package io.github.invertingproxy.core.proxy;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.ClientBodyException;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.RequestTarget;
import java.io.FilterOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import javax.servlet.http.HttpServletRequest;

/**
 * A client's request, as it will be written for the agent: the original request line and end-to-end
 * headers, minus hop-by-hop headers and any {@code X-Inverting-Proxy-*} header the client tried to
 * send, with the body streaming from the client's connection when it is written.
 */
final class ClientRequest implements ExchangeRequest {
  private static final int COPY_BUFFER = 32 * 1024;

  private final RequestHead head;
  private final BodyFraming framing;
  private final HttpServletRequest servletRequest;
  private final String user;
  private final Instant startTime;
  /** The whole body, once read from the client ({@link #withBodyInMemory}); else null, and it streams. */
  private final byte[] body;

  private ClientRequest(RequestHead head, BodyFraming framing, HttpServletRequest servletRequest, String user,
      Instant startTime, byte[] body) {
    this.head = head;
    this.framing = framing;
    this.servletRequest = servletRequest;
    this.user = user;
    this.startTime = startTime;
    this.body = body;
  }

  /**
   * Reads the head of {@code request}, whose request line gets {@code target}: the path it was routed by.
   * With {@code webSocketUpgrade}, the upgrade fields ({@code Connection: Upgrade}, {@code Upgrade:
   * websocket}) are kept, for an agent that carries WebSockets (docs/protocol.md, "WebSocket extension").
   *
   * @throws MalformedMessageException when the framing is ambiguous or malformed, e.g. both
   *     Content-Length and Transfer-Encoding
   */
  static ClientRequest of(HttpServletRequest request, RequestTarget target, String user, Instant startTime,
      boolean webSocketUpgrade) throws MalformedMessageException {
    requireNonNull(request, "request");
    List<HeaderField> fields = new ArrayList<>();
    for (String name : Collections.list(request.getHeaderNames())) {
      for (String value : Collections.list(request.getHeaders(name))) {
        fields.add(new HeaderField(name, value));
      }
    }
    Headers original = Headers.of(fields);
    if ("HTTP/1.0".equals(request.getProtocol()) && original.contains("Transfer-Encoding")) {
      // RFC 9112 section 6.1: such framing is faulty; the caller refuses it and closes the connection.
      throw new MalformedMessageException("Transfer-Encoding in an HTTP/1.0 request");
    }
    BodyFraming framing = BodyFraming.ofRequest(original);
    // Framing headers are re-derived from the framing; Expect is answered by this proxy's container.
    Headers headers = HopByHopHeaders.strip(original).without(f -> ProtocolHeaders.isProtocolHeader(f.name())
        || f.is("Content-Length") || f.is("Expect"));
    if (webSocketUpgrade) {
      headers = headers.plus(new HeaderField("Connection", "Upgrade")).plus(new HeaderField("Upgrade", "websocket"));
    }
    if (framing instanceof BodyFraming.Length l) {
      headers = headers.plus(new HeaderField("Content-Length", Long.toString(l.length())));
    } else if (framing instanceof BodyFraming.Chunked) {
      headers = headers.plus(new HeaderField("Transfer-Encoding", "chunked"));
    } else if (original.contains("Content-Length")) {
      headers = headers.plus(new HeaderField("Content-Length", "0"));
    }
    RequestHead head = new RequestHead(request.getMethod(), target.originForm(), headers);
    return new ClientRequest(head, framing, request, requireNonNull(user, "user"), requireNonNull(startTime, "startTime"),
        null);
  }

  /** This request with its end-to-end headers passed through {@code rewrite} (framing headers stay as they are). */
  ClientRequest withHeaders(UnaryOperator<Headers> rewrite) {
    RequestHead rewritten = new RequestHead(head.method(), head.target(), rewrite.apply(head.headers()));
    return new ClientRequest(rewritten, framing, servletRequest, user, startTime, body);
  }

  RequestHead head() {
    return head;
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public Instant startTime() {
    return startTime;
  }

  @Override
  public String method() {
    return head.method();
  }

  /**
   * Reads a body of a declared length of at most {@code maxBytes} from the client now, so that the
   * request is then written without touching the client's connection. Any other request is returned
   * as it is.
   *
   * @throws IOException when the client's body broke off
   */
  ClientRequest withBodyInMemory(int maxBytes) throws IOException {
    if (body != null || !(framing instanceof BodyFraming.Length l) || !framing.knownAtMost(maxBytes)) {
      return this;
    }
    byte[] read = servletRequest.getInputStream().readNBytes((int) l.length());
    if (read.length < l.length()) {
      throw new EOFException("the request body broke off after " + read.length + " of " + l.length() + " bytes");
    }
    return new ClientRequest(head, framing, servletRequest, user, startTime, read);
  }

  /** The bytes {@link #withBodyInMemory} with {@code maxBytes} would read into memory; 0 for none. */
  long bodyBytesInMemory(int maxBytes) {
    return body == null && framing instanceof BodyFraming.Length l && framing.knownAtMost(maxBytes) ? l.length() : 0;
  }

  /** Writing the request reads nothing more from the client: it has no body, or its body is in memory. */
  boolean readsNothingMore() {
    return framing instanceof BodyFraming.None || body != null;
  }

  @Override
  public boolean bufferable(int maxBodyBytes) {
    if (head.headers().contains("Upgrade")) {
      return false;
    }
    return framing.knownAtMost(maxBodyBytes);
  }

  /**
   * Writes the request without flushing {@code out}: whoever owns {@code out} ends it right after
   * (the agent's {@code agent/request} call completes, and its container then writes what is still
   * buffered in one go, with a {@code Content-Length} when it all fits). A flush here would cost an
   * extra write and force chunked framing on that answer. A long body still goes out as the
   * container's buffer fills.
   */
  @Override
  public void writeTo(OutputStream out) throws IOException {
    OutputStream unflushed = new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void flush() {
        // See above.
      }

      @Override
      public void close() {
        // Ending the stream is its owner's business.
      }
    };
    MessageWriter.writeHead(unflushed, head);
    try (OutputStream bodyOut = MessageWriter.openBody(unflushed, framing, this::trailers)) {
      if (body != null) {
        bodyOut.write(body);
      } else if (!(framing instanceof BodyFraming.None)) {
        InputStream in = servletRequest.getInputStream();
        byte[] buffer = new byte[COPY_BUFFER];
        for (int n; (n = readClientBody(in, buffer)) >= 0; ) {
          bodyOut.write(buffer, 0, n);
        }
      }
    }
  }

  /** Reads from the client's body; a failure there is the client's ({@link ClientBodyException}). */
  private static int readClientBody(InputStream in, byte[] buffer) throws ClientBodyException {
    try {
      return in.read(buffer);
    } catch (IOException e) {
      throw new ClientBodyException("the request body could not be read (" + e.getMessage() + ")", e);
    }
  }

  private Headers trailers() {
    if (!servletRequest.isTrailerFieldsReady()) {
      return Headers.empty();
    }
    Map<String, String> trailers = servletRequest.getTrailerFields();
    List<HeaderField> fields = new ArrayList<>(trailers.size());
    trailers.forEach((name, value) -> {
      if (!HopByHopHeaders.isAlwaysHopByHop(name) && !ProtocolHeaders.isProtocolHeader(name)
          && !name.toLowerCase(Locale.ROOT).equals("content-length")) {
        fields.add(new HeaderField(name, value));
      }
    });
    return Headers.of(fields);
  }
}
