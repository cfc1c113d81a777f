package io.github.invertingproxy.core.spi;

import static java.util.Objects.requireNonNull;

/** A request an agent has taken, with its exchange's id: what {@link ExchangeStore#takeNext} hands over. */
public record TakenRequest(String id, ExchangeRequest request) {
  public TakenRequest {
    requireNonNull(id, "id");
    requireNonNull(request, "request");
  }
}
