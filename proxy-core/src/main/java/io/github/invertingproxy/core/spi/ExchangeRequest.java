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
}
