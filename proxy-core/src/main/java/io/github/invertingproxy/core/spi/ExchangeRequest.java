package io.github.invertingproxy.core.spi;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;

/**
 * A client's request as the agent receives it: from {@code agent/request}, or in the answer to its
 * {@code agent/response} (the next-request extension).
 */
public interface ExchangeRequest {
  /** The end user's email; empty for an anonymous user. */
  String user();

  /** When the client's request arrived. */
  Instant startTime();

  /** The request method, which decides whether the response has a body. */
  String method();

  /** Writes the request in HTTP/1.1 wire format; the body may stream from the client as it is written. */
  void writeTo(OutputStream out) throws IOException;

  /**
   * True when the whole request may be read into memory at once: no WebSocket upgrade, and no body
   * or one of a declared length of at most {@code maxBodyBytes}. False by default (unknown).
   */
  default boolean bufferable(int maxBodyBytes) {
    return false;
  }
}
