package io.github.invertingproxy.agent;

import io.github.invertingproxy.protocol.FieldList;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.MessageLimits;
import java.util.ArrayList;
import java.util.List;

/**
 * Recognises, in the bytes read so far from a backend connection, a response that can be carried
 * whole without a thread: HTTP/1.1, plain CRLF-ended fields of visible ASCII, and either no body or
 * a single Content-Length of at most the limit. Interim 1xx responses before it are skipped, as the
 * blocking client skips them. Everything else (chunked or until-close bodies, 101, folded or
 * non-ASCII fields, HTTP/1.0, a head over the limits) is {@link #NOT_SMALL}: the blocking client then
 * reads it from the first byte, with its own rules and error messages.
 */
final class SmallResponseReader {
  /** The bytes so far are the start of a small response, or of something not yet known. */
  static final Result NEED_MORE = new Result(0, "", Headers.empty(), 0, 0, 0, false);
  /** Not a response this reader carries; the blocking client must read it. */
  static final Result NOT_SMALL = new Result(0, "", Headers.empty(), 0, 0, 0, false);

  private final int maxBody;
  private final MessageLimits limits;

  SmallResponseReader(int maxBody, MessageLimits limits) {
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
  record Result(int status, String reason, Headers headers, int bodyStart, int bodyLength, int end,
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
  Result read(byte[] bytes, int length, boolean noBody) {
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

  /** The head in {@code b[from, headEnd)}, or null when this reader does not carry it. */
  private Result head(byte[] b, int from, int headEnd, boolean noBody) {
    int lineEnd = lineEnd(b, from, headEnd);
    // "HTTP/1.1 200 OK": the version, a space, three digits, a space, and a reason that may be empty.
    if (lineEnd - from < 13 || lineEnd - from > limits.maxLineLength() || !startsWith(b, from, "HTTP/1.1 ")
        || b[from + 12] != ' ') {
      return null;
    }
    int status = 0;
    for (int i = from + 9; i < from + 12; i++) {
      if (b[i] < '0' || b[i] > '9') {
        return null;
      }
      status = status * 10 + (b[i] - '0');
    }
    if (status < 100 || status == 101) {
      return null;
    }
    for (int i = from + 13; i < lineEnd; i++) {
      if (!visibleOrSpace(b[i])) {
        return null;
      }
    }
    String reason = ascii(b, from + 13, lineEnd);
    List<HeaderField> fields = new ArrayList<>();
    long contentLength = -1;
    boolean close = false;
    int at = lineEnd + 2;
    while (at < headEnd - 2) {
      int end = lineEnd(b, at, headEnd);
      if (end - at > limits.maxLineLength() || fields.size() == limits.maxHeaderCount()) {
        return null;
      }
      int colon = -1;
      for (int i = at; i < end; i++) {
        if (b[i] == ':') {
          colon = i;
          break;
        }
        if (!tokenChar(b[i])) {
          return null; // folded lines, spaces before the colon, anything odd
        }
      }
      if (colon <= at) {
        return null;
      }
      int valueStart = colon + 1;
      int valueEnd = end;
      for (int i = valueStart; i < valueEnd; i++) {
        if (!visibleOrSpace(b[i])) {
          return null;
        }
      }
      while (valueStart < valueEnd && (b[valueStart] == ' ' || b[valueStart] == '\t')) {
        valueStart++;
      }
      while (valueEnd > valueStart && (b[valueEnd - 1] == ' ' || b[valueEnd - 1] == '\t')) {
        valueEnd--;
      }
      String name = ascii(b, at, colon);
      String value = ascii(b, valueStart, valueEnd);
      if (name.equalsIgnoreCase("Transfer-Encoding")) {
        return null;
      }
      if (name.equalsIgnoreCase("Content-Length")) {
        if (contentLength >= 0 || value.isEmpty() || value.length() > 18 || !value.chars().allMatch(Character::isDigit)) {
          return null;
        }
        contentLength = Long.parseLong(value);
      }
      if (name.equalsIgnoreCase("Connection") && FieldList.contains(value, "close")) {
        close = true;
      }
      fields.add(new HeaderField(name, value));
      at = end + 2;
    }
    int bodyLength;
    if (status < 200 || noBody || status == 204 || status == 304) {
      bodyLength = 0; // a Content-Length here, if any, is information only
    } else if (contentLength < 0 || contentLength > maxBody) {
      return null; // until-close or large: streamed by the blocking client
    } else {
      bodyLength = (int) contentLength;
    }
    return new Result(status, reason, Headers.of(fields), headEnd, bodyLength, headEnd + bodyLength, !close);
  }

  /** The end of the line that starts at {@code from}, its CR; a bare LF anywhere makes it unusable. */
  private static int lineEnd(byte[] b, int from, int headEnd) {
    for (int i = from; i < headEnd - 1; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
      if (b[i] == '\n' || b[i] == '\r') {
        return Integer.MAX_VALUE; // over any line limit: not carried
      }
    }
    return Integer.MAX_VALUE;
  }

  private static boolean startsWith(byte[] b, int from, String prefix) {
    for (int i = 0; i < prefix.length(); i++) {
      if (b[from + i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean visibleOrSpace(byte c) {
    return (c >= 0x20 && c < 0x7f) || c == '\t';
  }

  /** RFC 9110 tchar. */
  private static boolean tokenChar(byte c) {
    if (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
      return true;
    }
    return c > 0 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  @SuppressWarnings("deprecation") // the fast ASCII copy
  private static String ascii(byte[] b, int from, int to) {
    return new String(b, 0, from, to - from);
  }
}
