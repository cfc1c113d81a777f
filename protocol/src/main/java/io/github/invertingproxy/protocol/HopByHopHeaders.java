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

  private HopByHopHeaders() {}

  /** The hop-by-hop headers removed from {@code headers}, including those its Connection fields name. */
  public static Headers strip(Headers headers) {
    Set<String> named = new HashSet<>();
    for (String element : headers.elements("Connection")) {
      named.add(element.toLowerCase(Locale.ROOT));
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
