package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

/** A status line and its headers. */
public record ResponseHead(int status, String reason, Headers headers) {
  public ResponseHead {
    requireNonNull(reason, "reason");
    requireNonNull(headers, "headers");
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("status " + status + " is not a three-digit code");
    }
    if (reason.indexOf('\r') >= 0 || reason.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("reason phrase contains CR or LF");
    }
  }
}
