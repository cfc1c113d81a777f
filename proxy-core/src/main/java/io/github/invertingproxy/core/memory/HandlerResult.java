package io.github.invertingproxy.core.memory;

import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ResponseHandler;
import java.io.IOException;

/**
 * What the client's handler gave when the responding thread ran it on the response: the value the
 * client's thread returns, or the failure it throws as if it had run the handler itself.
 */
final class HandlerResult {
  /** A relay with nothing to give back: a thread-less waiter's. */
  static final HandlerResult NONE = new HandlerResult(null, null);

  private final Object value;
  private final Throwable failure;

  private HandlerResult(Object value, Throwable failure) {
    this.value = value;
    this.failure = failure;
  }

  /** Runs {@code handler} on {@code response}, keeping whatever it returns or throws, even an Error. */
  static HandlerResult run(ResponseHandler<?> handler, AgentResponse response) {
    try {
      return new HandlerResult(handler.handle(response), null);
    } catch (Throwable t) {
      return new HandlerResult(null, t);
    }
  }

  /**
   * The handler's value, or its failure: rethrown as it was when an IOException, unchecked exception
   * or Error, otherwise wrapped in one that names {@code requestId}.
   */
  @SuppressWarnings("unchecked")
  <T> T get(String requestId) throws IOException {
    if (failure instanceof IOException e) {
      throw e;
    } else if (failure instanceof RuntimeException e) {
      throw e;
    } else if (failure instanceof Error e) {
      throw e;
    } else if (failure != null) {
      throw new IOException("relaying the response of request " + requestId + " failed", failure);
    }
    return (T) value;
  }
}
