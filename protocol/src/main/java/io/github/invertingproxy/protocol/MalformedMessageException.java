package io.github.invertingproxy.protocol;

import java.io.IOException;

/** An HTTP/1.1 message that cannot be parsed, or whose framing is ambiguous. */
public final class MalformedMessageException extends IOException {
  public MalformedMessageException(String message) {
    super(message);
  }

  public MalformedMessageException(String message, Throwable cause) {
    super(message, cause);
  }
}
