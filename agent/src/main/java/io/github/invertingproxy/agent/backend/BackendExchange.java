package io.github.invertingproxy.agent.backend;

import io.github.invertingproxy.agent.http.SerializedResponse;
import java.io.Closeable;

/**
 * One request replayed against the backend whose response head has arrived; its body is still on the
 * way. Over HTTP/1.1 ({@link Http1Exchange}) or, with {@code --force-http2}, over h2c ({@link H2cBackend}).
 */
public interface BackendExchange extends Closeable {
  /** True when the whole request body went to the backend (or there was none). */
  boolean requestBodySent();

  /** True when --request-forwarding-timeout cut the exchange off. */
  boolean timedOut();

  /**
   * The response as the proxy should relay it: status line, end-to-end headers, and the body framed by
   * the backend's Content-Length when it sent one, else chunked with the backend's trailers.
   *
   * @throws BackendFailure when the response cannot travel
   */
  SerializedResponse serialize() throws BackendFailure;

  /** Ends the exchange; its connection is reused only when the response was read to its end. */
  @Override
  void close();
}
