package io.github.invertingproxy.appengine;

import java.io.IOException;

/** A serialized message outgrew {@link ExchangeSettings#maxMessageBytes()} while being stored. */
final class MessageTooLargeException extends IOException {
  private final long limit;

  MessageTooLargeException(long limit) {
    super("message is larger than App Engine's limit of " + limit + " bytes");
    this.limit = limit;
  }

  long limit() {
    return limit;
  }
}
