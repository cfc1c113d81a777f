package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A client's request target with its path in the one form the proxy routes and forwards: percent-
 * encoded unreserved characters decoded, dot segments removed (RFC 3986 §2.3, §5.2.4). A path whose
 * meaning would depend on how a backend decodes it is refused rather than guessed at, so that the
 * prefix a request was routed by is the prefix the backend sees: an encoded slash or backslash, a
 * backslash, a {@code ..} above the root, a dot segment with parameters ({@code ..;}), a NUL or other
 * control character, a malformed escape, a character outside ASCII that is not percent-encoded. The
 * query passes unchanged.
 */
public final class RequestTarget {
  private final String path;
  private final String query;

  private RequestTarget(String path, String query) {
    this.path = path;
    this.query = query;
  }

  /**
   * Normalises {@code rawPath} (as sent, still percent-encoded) and keeps {@code rawQuery}.
   *
   * @param rawQuery the query without its {@code ?}; null when the target had none
   * @throws RefusedException with a one-line reason when the path cannot be normalised safely
   */
  public static RequestTarget of(String rawPath, String rawQuery) throws RefusedException {
    requireNonNull(rawPath, "rawPath");
    if (!rawPath.startsWith("/")) {
      throw new RefusedException("the request target must be a path starting with /");
    }
    return new RequestTarget(removeDotSegments(decodeUnreserved(rawPath)), rawQuery);
  }

  /** The normalised path: what routing matches against prefixes and what the backend receives. */
  public String path() {
    return path;
  }

  /** The query as sent, without its {@code ?}; null when there was none. */
  public String query() {
    return query;
  }

  /** The origin-form target for the request line: the normalised path and the query as sent. */
  public String originForm() {
    return query == null ? path : path + "?" + query;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RequestTarget t && t.path.equals(path) && Objects.equals(t.query, query);
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, query);
  }

  @Override
  public String toString() {
    return originForm();
  }

  private static String decodeUnreserved(String raw) throws RefusedException {
    StringBuilder out = new StringBuilder(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int high = i + 2 < raw.length() ? hex(raw.charAt(i + 1)) : -1;
        int low = high < 0 ? -1 : hex(raw.charAt(i + 2));
        if (low < 0) {
          throw new RefusedException("the path has a malformed percent-encoding (% not followed by two hex digits)");
        }
        String escape = raw.substring(i, i + 3);
        char decoded = (char) (high * 16 + low);
        refuseAmbiguous(decoded, escape);
        if (isUnreserved(decoded)) {
          out.append(decoded);
        } else {
          out.append(escape);
        }
        i += 2;
      } else {
        refuseAmbiguous(c, null);
        out.append(c);
      }
    }
    return out.toString();
  }

  /** Refuses a character, sent as is ({@code escape} null) or percent-encoded, whose meaning depends on the reader. */
  private static void refuseAmbiguous(char c, String escape) throws RefusedException {
    String as = escape == null ? "" : " (" + escape + ")";
    if (c == '/' && escape != null) {
      throw new RefusedException("the path has an encoded slash" + as + ": backends disagree on what it means");
    }
    if (c == '\\') {
      throw new RefusedException("the path has a backslash" + as + ": some backends read it as a slash");
    }
    if (c == 0) {
      throw new RefusedException("the path has a NUL character" + as);
    }
    if (c < 0x20 || c == 0x7f) {
      throw new RefusedException("the path has a control character" + (escape == null
          ? String.format(" (0x%02X)", (int) c) : as));
    }
    if (c > 0x7f && escape == null) {
      // Which bytes it stood for depends on the charset the container read the request line in.
      throw new RefusedException(String.format("the path has a character outside ASCII (U+%04X) that is not"
          + " percent-encoded", (int) c));
    }
  }

  /** The value of an ASCII hex digit; -1 for anything else (Character.digit also takes other scripts' digits). */
  private static int hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** RFC 3986 §5.2.4 on an absolute path, except that a {@code ..} above the root is refused, not dropped. */
  private static String removeDotSegments(String path) throws RefusedException {
    String[] segments = path.substring(1).split("/", -1);
    List<String> out = new ArrayList<>(segments.length);
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i];
      boolean last = i == segments.length - 1;
      if (segment.equals(".")) {
        if (last) {
          out.add("");
        }
      } else if (segment.equals("..")) {
        if (out.isEmpty()) {
          throw new RefusedException("the path climbs above the root with ..");
        }
        out.remove(out.size() - 1);
        if (last) {
          out.add("");
        }
      } else if (segment.startsWith(".;") || segment.startsWith("..;")) {
        // Servlet containers drop ";parameters" from a segment first, and then see a dot segment.
        throw new RefusedException("the path has a dot segment with parameters (" + segment.substring(0,
            segment.indexOf(';') + 1) + "): backends disagree on what it means");
      } else {
        out.add(segment);
      }
    }
    return "/" + String.join("/", out);
  }

  /** A request target that the proxy refuses to route; the message is a one-line reason for the client. */
  public static final class RefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    public RefusedException(String reason) {
      super(reason);
    }
  }
}
