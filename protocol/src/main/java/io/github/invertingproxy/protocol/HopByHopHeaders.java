package io.github.invertingproxy.protocol;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The headers that belong to one connection and are never forwarded (RFC 9110 section 7.6.1), plus
 * every header that a {@code Connection} field names.
 */
public final class HopByHopHeaders {
  private static final Set<String> ALWAYS = Set.of(
      "connection", "proxy-connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
      "te", "trailer", "transfer-encoding", "upgrade");

  /**
   * Fields a {@code Connection} token cannot make hop-by-hop: the target's host and the message's
   * framing belong to the message, and a client must not strip them on its way through.
   */
  private static final Set<String> NEVER_NAMED = Set.of("host", "content-length", "transfer-encoding");

  private HopByHopHeaders() {}

  /** The hop-by-hop headers removed from {@code headers}, including those its Connection fields name. */
  public static Headers strip(Headers headers) {
    Set<String> named = new HashSet<>();
    for (String element : headers.elements("Connection")) {
      String name = element.toLowerCase(Locale.ROOT);
      if (!NEVER_NAMED.contains(name)) {
        named.add(name);
      }
    }
    return headers.without(f -> {
      String lower = f.name().toLowerCase(Locale.ROOT);
      return ALWAYS.contains(lower) || named.contains(lower);
    });
  }

  /** True for the fixed hop-by-hop names (not those named by a Connection header). */
  public static boolean isAlwaysHopByHop(String name) {
    return ALWAYS.contains(name.toLowerCase(Locale.ROOT));
  }
}
