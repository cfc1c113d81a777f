package io.github.invertingproxy.core.spi;

import java.io.IOException;

/**
 * What the client's side does with the agent's response (relays it to the client), given to
 * {@link ExchangeStore#awaitResponse(String, java.time.Duration, ResponseHandler)}.
 *
 * <p>It may run on another thread than the waiting client's (the agent's, in the in-memory store),
 * while the client's thread waits for it; it must only touch what that thread would.
 */
@FunctionalInterface
public interface ResponseHandler<T> {
  T handle(AgentResponse response) throws IOException;
}
