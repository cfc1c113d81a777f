package io.github.invertingproxy.protocol;

import java.util.List;
import java.util.Locale;

/**
 * How a message body is delimited on the wire (RFC 9112 section 6.3). Ambiguous framing, such as
 * both {@code Content-Length} and {@code Transfer-Encoding}, is refused: a proxy that guessed would let
 * one serialized request smuggle a second.
 */
public sealed interface BodyFraming {
  /** No body at all. */
  record None() implements BodyFraming {}

  /** Exactly {@code length} bytes. */
  record Length(long length) implements BodyFraming {}

  /** {@code Transfer-Encoding: chunked}, possibly followed by trailers. */
  record Chunked() implements BodyFraming {}

  /** A response body that ends when the connection closes. */
  record UntilClose() implements BodyFraming {}

  BodyFraming NONE = new None();
  BodyFraming CHUNKED = new Chunked();
  BodyFraming UNTIL_CLOSE = new UntilClose();

  /**
   * The buffer to copy this body with: as large as the body when its length is known, else
   * {@code max}. Small bodies then cost no large allocation, and large ones take few reads and writes.
   */
  default int copyBufferSize(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive, was " + max);
    }
    return this instanceof Length l ? (int) Math.max(1, Math.min(l.length(), max)) : max;
  }

  /**
   * Whether the whole body is known to take at most {@code maxBytes}: no body, or a length no larger.
   * Chunked and until-close bodies never are, whatever they turn out to hold.
   */
  default boolean knownAtMost(long maxBytes) {
    return this instanceof None || (this instanceof Length l && l.length() <= maxBytes);
  }

  static BodyFraming ofRequest(Headers headers) throws MalformedMessageException {
    BodyFraming f = explicit(headers);
    return f != null ? f : NONE;
  }

  static BodyFraming ofResponse(int status, String requestMethod, Headers headers)
      throws MalformedMessageException {
    if ("HEAD".equalsIgnoreCase(requestMethod) || (status >= 100 && status < 200) || status == 204
        || status == 304) {
      return NONE;
    }
    BodyFraming f = explicit(headers);
    return f != null ? f : UNTIL_CLOSE;
  }

  private static BodyFraming explicit(Headers headers) throws MalformedMessageException {
    List<String> te = headers.all("Transfer-Encoding");
    List<String> cl = headers.all("Content-Length");
    if (!te.isEmpty() && !cl.isEmpty()) {
      throw new MalformedMessageException("both Content-Length and Transfer-Encoding are present");
    }
    if (!te.isEmpty()) {
      String codings = String.join(",", te).trim().toLowerCase(Locale.ROOT);
      if (!codings.equals("chunked")) {
        throw new MalformedMessageException("unsupported Transfer-Encoding \"" + String.join(", ", te)
            + "\": only chunked is accepted");
      }
      return CHUNKED;
    }
    if (!cl.isEmpty()) {
      long length = -1;
      for (String value : cl) {
        for (String part : value.split(",", -1)) {
          long v = parseLength(part.trim());
          if (length >= 0 && v != length) {
            throw new MalformedMessageException("conflicting Content-Length values " + cl);
          }
          length = v;
        }
      }
      return length == 0 ? NONE : new Length(length);
    }
    return null;
  }

  private static long parseLength(String s) throws MalformedMessageException {
    if (s.isEmpty() || s.length() > 18 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new MalformedMessageException("malformed Content-Length \"" + s + "\"");
    }
    return Long.parseLong(s);
  }
}
