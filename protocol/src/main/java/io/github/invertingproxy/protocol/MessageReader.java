package io.github.invertingproxy.protocol;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpMessage;
import org.apache.hc.core5.http.HttpRequestFactory;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.BasicHttpTransportMetrics;
import org.apache.hc.core5.http.impl.io.ChunkedInputStream;
import org.apache.hc.core5.http.impl.io.ContentLengthInputStream;
import org.apache.hc.core5.http.impl.io.DefaultHttpRequestParser;
import org.apache.hc.core5.http.impl.io.DefaultHttpResponseParser;
import org.apache.hc.core5.http.impl.io.IdentityInputStream;
import org.apache.hc.core5.http.impl.io.SessionInputBufferImpl;
import org.apache.hc.core5.http.io.SessionInputBuffer;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;
import org.apache.hc.core5.http.message.BasicLineParser;

/**
 * Parses HTTP/1.1 messages in wire format (the bodies of {@code agent/request} and
 * {@code agent/response}) with httpcore5's parser, within {@link MessageLimits}.
 */
public final class MessageReader {
  private static final int BUFFER_SIZE = 32 * 1024;
  /** Interim responses skipped before a final one; more is an agent that never comes to the point. */
  private static final int MAX_INTERIM_RESPONSES = 16;

  private MessageReader() {}

  /** Reads a request head from {@code in}; the body is left to stream from the returned message. */
  public static IncomingMessage<RequestHead> readRequest(InputStream in, MessageLimits limits) throws IOException {
    Http1Config config = config(limits);
    SessionInputBuffer buffer = buffer(in, limits);
    DefaultHttpRequestParser parser = new DefaultHttpRequestParser(config, BasicLineParser.INSTANCE, RAW_TARGET);
    ClassicHttpRequest request = parse(() -> parser.parse(buffer, in));
    Headers headers = headers(request);
    RequestHead head;
    try {
      head = new RequestHead(request.getMethod(), ((RawTargetRequest) request).rawTarget, headers);
    } catch (IllegalArgumentException e) {
      throw new MalformedMessageException(e.getMessage());
    }
    return body(head, BodyFraming.ofRequest(headers), buffer, in, config);
  }

  /**
   * Reads a response head from {@code in}. {@code requestMethod} decides whether a body follows (a
   * response to {@code HEAD} has none). Interim responses (1xx other than 101) before the final one
   * are skipped: they carry no body, and a proxy may drop them (RFC 9110 section 15.2).
   */
  public static IncomingMessage<ResponseHead> readResponse(InputStream in, String requestMethod, MessageLimits limits)
      throws IOException {
    Http1Config config = config(limits);
    SessionInputBuffer buffer = buffer(in, limits);
    ClassicHttpResponse response;
    int interim = 0;
    while (true) {
      DefaultHttpResponseParser parser = new DefaultHttpResponseParser(config);
      response = parse(() -> parser.parse(buffer, in));
      if (response.getCode() >= 200 || response.getCode() == 101) {
        break;
      }
      if (++interim > MAX_INTERIM_RESPONSES) {
        throw new MalformedMessageException("more than " + MAX_INTERIM_RESPONSES + " interim 1xx responses");
      }
    }
    Headers headers = headers(response);
    ResponseHead head;
    try {
      String reason = response.getReasonPhrase() == null ? "" : response.getReasonPhrase();
      head = new ResponseHead(response.getCode(), reason, headers);
    } catch (IllegalArgumentException e) {
      throw new MalformedMessageException(e.getMessage());
    }
    BodyFraming framing = BodyFraming.ofResponse(head.status(), requestMethod, headers);
    return body(head, framing, buffer, in, config);
  }

  private static <H> IncomingMessage<H> body(
      H head, BodyFraming framing, SessionInputBuffer buffer, InputStream in, Http1Config config) {
    Supplier<Headers> noTrailers = Headers::empty;
    if (framing instanceof BodyFraming.Length l) {
      return new IncomingMessage<>(head, framing, new ContentLengthInputStream(buffer, in, l.length()), noTrailers);
    }
    if (framing instanceof BodyFraming.Chunked) {
      ChunkedBody chunked = new ChunkedBody(new ChunkedInputStream(buffer, in, config));
      return new IncomingMessage<>(head, framing, chunked, chunked::trailers);
    }
    if (framing instanceof BodyFraming.UntilClose) {
      return new IncomingMessage<>(head, framing, new IdentityInputStream(buffer, in), noTrailers);
    }
    return new IncomingMessage<>(head, framing, InputStream.nullInputStream(), noTrailers);
  }

  /**
   * The trailer section as fields. httpcore5 turns CR and NUL in trailer values (and NUL in a
   * response's header values) into spaces, as RFC 9110 section 5.5 allows; that can leave spaces at
   * either end of a value, which are trimmed so that a field reads the same after it is written back.
   * Other control characters are refused in trailers (RFC 9110 section 5.5 does not allow them):
   * httpcore5's chunked writer would turn some of them into spaces, so they could not be relayed.
   */
  private static Headers trailers(Header[] footers) throws MalformedMessageException {
    if (footers == null || footers.length == 0) {
      return Headers.empty();
    }
    List<HeaderField> list = new ArrayList<>(footers.length);
    try {
      for (Header h : footers) {
        String value = h.getValue() == null ? "" : trimSpaces(h.getValue());
        if (value.chars().anyMatch(c -> (c < ' ' && c != '\t') || c == 0x7f)) {
          throw new MalformedMessageException("bad trailer field: value of " + h.getName() + " has a control character");
        }
        list.add(new HeaderField(h.getName(), value));
      }
    } catch (IllegalArgumentException e) {
      throw new MalformedMessageException("bad trailer field: " + e.getMessage());
    }
    return Headers.of(list);
  }

  private static String trimSpaces(String value) {
    int from = 0;
    int to = value.length();
    while (from < to && (value.charAt(from) == ' ' || value.charAt(from) == '\t')) {
      from++;
    }
    while (to > from && (value.charAt(to - 1) == ' ' || value.charAt(to - 1) == '\t')) {
      to--;
    }
    return value.substring(from, to);
  }

  /** The head's fields; values trimmed as {@link #trailers} explains. */
  private static Headers headers(HttpMessage message) throws MalformedMessageException {
    Header[] all = message.getHeaders();
    List<HeaderField> list = new ArrayList<>(all.length);
    try {
      for (Header h : all) {
        list.add(new HeaderField(h.getName(), h.getValue() == null ? "" : trimSpaces(h.getValue())));
      }
    } catch (IllegalArgumentException e) {
      throw new MalformedMessageException(e.getMessage());
    }
    return Headers.of(list);
  }

  private interface ParseStep<T> {
    T run() throws IOException, HttpException;
  }

  private static <T> T parse(ParseStep<T> step) throws IOException {
    T message;
    try {
      message = step.run();
    } catch (MessageConstraintException e) {
      throw new MalformedMessageException("message head exceeds limits: " + e.getMessage(), e);
    } catch (ConnectionClosedException e) {
      throw new MalformedMessageException("message ended before its head was complete", e);
    } catch (HttpException e) {
      throw new MalformedMessageException("unparseable message head: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      // httpcore5 builds the message with checked arguments: a status code of 000 lands here.
      throw new MalformedMessageException("unparseable message head: " + e.getMessage(), e);
    }
    if (message == null) {
      throw new MalformedMessageException("empty message: no request or status line");
    }
    return message;
  }

  private static Http1Config config(MessageLimits limits) {
    return Http1Config.custom()
        .setBufferSize(BUFFER_SIZE)
        .setMaxLineLength(limits.maxLineLength())
        .setMaxHeaderCount(limits.maxHeaderCount())
        .build();
  }

  /**
   * A message held in memory (a channel frame's) gets a buffer no larger than itself: zeroing a
   * 32 KiB buffer for a few hundred bytes showed in profiles.
   */
  private static SessionInputBuffer buffer(InputStream in, MessageLimits limits) throws IOException {
    int size = in instanceof ByteArrayInputStream ? Math.max(64, Math.min(BUFFER_SIZE, in.available())) : BUFFER_SIZE;
    return new SessionInputBufferImpl(new BasicHttpTransportMetrics(), size, 512, limits.maxLineLength(), null);
  }

  /** Keeps the request target exactly as it stood on the request line. */
  private static final class RawTargetRequest extends BasicClassicHttpRequest {
    private static final long serialVersionUID = 1L;
    final String rawTarget;

    RawTargetRequest(String method, String rawTarget) {
      super(method, "/");
      this.rawTarget = rawTarget;
    }
  }

  private static final HttpRequestFactory<ClassicHttpRequest> RAW_TARGET = new HttpRequestFactory<>() {
    @Override
    public ClassicHttpRequest newHttpRequest(String method, String uri) {
      return new RawTargetRequest(method, uri);
    }

    @Override
    public ClassicHttpRequest newHttpRequest(String method, java.net.URI uri) {
      return new RawTargetRequest(method, uri.toString());
    }
  };

  /**
   * A chunked body that turns httpcore5's chunk-coding errors into {@link MalformedMessageException}
   * and checks the trailer section once the body has ended, so that a bad trailer fails the read
   * instead of the later {@link IncomingMessage#trailers()} call.
   */
  private static final class ChunkedBody extends java.io.FilterInputStream {
    private final ChunkedInputStream chunked;
    private Headers trailers = Headers.empty();
    private boolean ended;

    ChunkedBody(ChunkedInputStream chunked) {
      super(chunked);
      this.chunked = chunked;
    }

    @Override
    public int read() throws IOException {
      try {
        return ended(super.read());
      } catch (org.apache.hc.core5.http.MalformedChunkCodingException e) {
        throw new MalformedMessageException("bad chunked body: " + e.getMessage(), e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return ended(super.read(b, off, len));
      } catch (org.apache.hc.core5.http.MalformedChunkCodingException e) {
        throw new MalformedMessageException("bad chunked body: " + e.getMessage(), e);
      }
    }

    private int ended(int n) throws MalformedMessageException {
      if (n < 0 && !ended) {
        ended = true;
        trailers = MessageReader.trailers(chunked.getFooters());
      }
      return n;
    }

    Headers trailers() {
      return trailers;
    }
  }
}
