package io.github.invertingproxy.core.memory;

import io.github.invertingproxy.core.spi.ExchangeRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;

/**
 * A taken request as its agent's thread writes it: the writing moves its exchange on
 * ({@link Exchange#startWriting}, then {@link Exchange#written}).
 */
final class Delivery implements ExchangeRequest {
  private final Exchange exchange;

  Delivery(Exchange exchange) {
    this.exchange = exchange;
  }

  @Override
  public String user() {
    return exchange.request.user();
  }

  @Override
  public Instant startTime() {
    return exchange.request.startTime();
  }

  @Override
  public String method() {
    return exchange.request.method();
  }

  @Override
  public void writeTo(OutputStream out) throws IOException {
    exchange.startWriting();
    IOException failure = null;
    try {
      exchange.request.writeTo(out);
    } catch (IOException | RuntimeException e) {
      failure = new IOException("the request could not be delivered to the agent: " + e.getMessage(), e);
      throw e;
    } finally {
      exchange.written(failure);
    }
  }
}
