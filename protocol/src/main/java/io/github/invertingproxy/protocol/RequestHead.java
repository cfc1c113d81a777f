package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

/**
 * A request line and its headers.
 *
 * @param method the method, as sent
 * @param target the origin-form target: path and query, still percent-encoded (a proxy sends the path
 *     as {@link RequestTarget} normalised it, and the query as the client sent it)
 */
public record RequestHead(String method, String target, Headers headers) {
  public RequestHead {
    requireNonNull(method, "method");
    requireNonNull(target, "target");
    requireNonNull(headers, "headers");
    if (method.isEmpty() || method.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
      throw new IllegalArgumentException("invalid method \"" + method + "\"");
    }
    if (target.isEmpty() || target.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException("invalid request target \"" + target + "\"");
    }
  }

  /** The target's path, without the query. */
  public String path() {
    int q = target.indexOf('?');
    return q < 0 ? target : target.substring(0, q);
  }
}
