package io.github.invertingproxy.core.spi;

import java.io.IOException;

/**
 * The client's request body could not be read: it broke off, or its framing is malformed (a bad chunk
 * size). The fault is the client's, so it gets {@code 400}, not the {@code 502} of an agent's failure.
 */
public final class ClientBodyException extends IOException {
  private static final long serialVersionUID = 1L;

  public ClientBodyException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The client's body failure in {@code failure}'s causes, or null when the fault lies elsewhere. */
  public static ClientBodyException in(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ClientBodyException e) {
        return e;
      }
    }
    return null;
  }
}
