package io.github.invertingproxy.agent.http;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.FieldList;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.MessageLimits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpVersion;
import org.apache.hc.core5.http.ParseException;
import org.apache.hc.core5.http.impl.BasicHttpTransportMetrics;
import org.apache.hc.core5.http.impl.io.SessionInputBufferImpl;
import org.apache.hc.core5.http.message.BasicLineParser;
import org.apache.hc.core5.http.message.StatusLine;
import org.apache.hc.core5.util.CharArrayBuffer;

/**
 * Recognises, in the bytes read so far from a backend connection, a response that can be carried
 * whole without a thread: HTTP/1.1, plain CRLF-ended fields of visible ASCII, and either no body or
 * a single Content-Length of at most the limit. Interim 1xx responses before it are skipped, as the
 * blocking client skips them. Everything else (chunked or until-close bodies, 101, folded or
 * non-ASCII fields, HTTP/1.0, a head over the limits) is {@link #NOT_SMALL}: the blocking client then
 * reads it from the first byte, with its own rules and error messages. Finding where a head ends is
 * all this class does by hand: httpcore5 parses the head, the protocol's {@link BodyFraming} decides
 * the body's extent.
 */
public final class SmallResponseReader {
  /** The bytes so far are the start of a small response, or of something not yet known. */
  public static final Result NEED_MORE = new Result(0, "", Headers.empty(), 0, 0, 0, false);
  /** Not a response this reader carries; the blocking client must read it. */
  public static final Result NOT_SMALL = new Result(0, "", Headers.empty(), 0, 0, 0, false);

  private final int maxBody;
  private final MessageLimits limits;

  public SmallResponseReader(int maxBody, MessageLimits limits) {
    this.maxBody = maxBody;
    this.limits = limits;
  }

  /**
   * A complete final response.
   *
   * @param bodyStart where its body starts in the bytes read
   * @param end where it ends: any byte after it is unasked-for, and the connection cannot be reused
   * @param keepAlive whether the backend lets the connection serve another request
   */
  public record Result(int status, String reason, Headers headers, int bodyStart, int bodyLength, int end,
      boolean keepAlive) {
    boolean complete() {
      return this != NEED_MORE && this != NOT_SMALL;
    }
  }

  /**
   * Reads {@code bytes[0, length)} from the start.
   *
   * @param noBody whether the request was one whose response has no body (HEAD)
   */
  public Result read(byte[] bytes, int length, boolean noBody) {
    int at = 0;
    while (true) {
      int headEnd = headEnd(bytes, at, length);
      if (headEnd < 0) {
        // Within the limits a head may still be on its way; past them, the blocking client says why.
        return length - at > maxHeadBytes() ? NOT_SMALL : NEED_MORE;
      }
      Result head = head(bytes, at, headEnd, noBody);
      if (head == null) {
        return NOT_SMALL;
      }
      if (head.status() < 200) {
        at = headEnd; // an interim response: the final one follows
        continue;
      }
      int end = head.bodyStart() + head.bodyLength();
      return length < end ? NEED_MORE : head;
    }
  }

  private int maxHeadBytes() {
    return limits.maxLineLength() + 2 + limits.maxHeaderCount() * (limits.maxLineLength() + 2) + 2;
  }

  /** Where the head that starts at {@code from} ends (after its empty line), or -1. */
  private static int headEnd(byte[] b, int from, int length) {
    for (int i = from; i + 3 < length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
        return i + 4;
      }
    }
    return -1;
  }

  /**
   * The head in {@code b[from, headEnd)}, parsed by httpcore5 line by line from one copy of its
   * bytes, or null when this reader does not carry it.
   */
  private Result head(byte[] b, int from, int headEnd, boolean noBody) {
    int size = headEnd - from;
    BasicHttpTransportMetrics metrics = new BasicHttpTransportMetrics();
    SessionInputBufferImpl buffer = new SessionInputBufferImpl(metrics, size, 0, limits.maxLineLength(), null);
    InputStream in = new ByteArrayInputStream(b, from, size);
    CharArrayBuffer line = new CharArrayBuffer(128);
    try {
      if (!crlfLine(buffer, in, metrics, line)) {
        return null;
      }
      StatusLine statusLine = BasicLineParser.INSTANCE.parseStatusLine(line);
      int status = statusLine.getStatusCode();
      if (!HttpVersion.HTTP_1_1.equals(statusLine.getProtocolVersion()) || status < 100 || status > 999
          || status == 101) {
        return null;
      }
      String reason = statusLine.getReasonPhrase() == null ? "" : statusLine.getReasonPhrase();
      if (!plain(reason)) {
        return null;
      }
      List<HeaderField> fields = new ArrayList<>();
      while (true) {
        line.clear();
        if (!crlfLine(buffer, in, metrics, line)) {
          return null;
        }
        if (line.isEmpty()) {
          break;
        }
        // An obs-fold continuation or a field past the count is left to the blocking client.
        if (line.charAt(0) == ' ' || line.charAt(0) == '\t' || fields.size() == limits.maxHeaderCount()) {
          return null;
        }
        Header h = BasicLineParser.INSTANCE.parseHeader(line);
        String value = h.getValue() == null ? "" : h.getValue();
        if (!plain(value)) {
          return null;
        }
        fields.add(new HeaderField(h.getName(), value));
      }
      if (metrics.getBytesTransferred() - buffer.length() != size) {
        return null; // the head must end where its empty line was found
      }
      Headers headers = Headers.of(fields);
      return withBody(status, reason, headers, headEnd, noBody);
    } catch (IOException | ParseException | IllegalArgumentException e) {
      // Over a limit, unparseable, or a field this project's types refuse: the blocking client says why.
      return null;
    }
  }

  /** The body's extent from httpcore5's head and the protocol's framing rules, or null if not carried. */
  private Result withBody(int status, String reason, Headers headers, int headEnd, boolean noBody)
      throws MalformedMessageException {
    // Only the plainest framing: no transfer coding, one length given once.
    List<String> lengths = headers.all("Content-Length");
    if (!headers.all("Transfer-Encoding").isEmpty() || lengths.size() > 1
        || (lengths.size() == 1 && lengths.get(0).indexOf(',') >= 0)) {
      return null;
    }
    // The framing of a response to HEAD is that of any bodiless response; the method is all it asks.
    BodyFraming framing = BodyFraming.ofResponse(status, noBody ? "HEAD" : "GET", headers);
    int bodyLength;
    if (framing instanceof BodyFraming.None) {
      bodyLength = 0; // a Content-Length here, if any, is information only
    } else if (framing instanceof BodyFraming.Length l && l.length() <= maxBody) {
      bodyLength = (int) l.length();
    } else {
      return null; // until-close or large: streamed by the blocking client
    }
    boolean close = headers.all("Connection").stream().anyMatch(v -> FieldList.contains(v, "close"));
    return new Result(status, reason, headers, headEnd, bodyLength, headEnd + bodyLength, !close);
  }

  /**
   * Reads the next line into {@code line}; false when it did not end with CRLF (httpcore5 also ends
   * lines at a bare LF, which this reader leaves to the blocking client).
   */
  private static boolean crlfLine(SessionInputBufferImpl buffer, InputStream in, BasicHttpTransportMetrics metrics,
      CharArrayBuffer line) throws IOException {
    long before = metrics.getBytesTransferred() - buffer.length();
    if (buffer.readLine(line, in) < 0) {
      return false;
    }
    return metrics.getBytesTransferred() - buffer.length() - before == line.length() + 2;
  }

  /** Visible ASCII, space and tab: the fields this reader carries. */
  private static boolean plain(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x20 && c != '\t') || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }
}
