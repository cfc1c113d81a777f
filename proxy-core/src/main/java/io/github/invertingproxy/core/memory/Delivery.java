package io.github.invertingproxy.core.memory;

import io.github.invertingproxy.core.spi.ExchangeRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;

/** A taken request as its agent's thread writes it: the writing is the exchange's ({@link Exchange#writeRequest}). */
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
    exchange.writeRequest(out);
  }
}
