package io.github.invertingproxy.core.spi;

import java.io.IOException;

/** The client's request is larger than the exchange store can hold. */
public final class RequestTooLargeException extends IOException {
  private final long limit;

  public RequestTooLargeException(long limit) {
    super("request is larger than this proxy's limit of " + limit + " bytes");
    this.limit = limit;
  }

  public long limit() {
    return limit;
  }
}
