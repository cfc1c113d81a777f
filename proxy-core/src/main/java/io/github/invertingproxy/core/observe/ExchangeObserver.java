package io.github.invertingproxy.core.observe;

import io.github.invertingproxy.core.spi.Route;

/**
 * What happens to a client's exchange, step by step, and the agents' calls. The servlets report here
 * and nowhere else; the access log and the metrics are observers.
 *
 * <p>An exchange is {@link #received}, then (once its user is known) {@link #routed}; a routed one is
 * {@link #queued} for its agent, {@link #taken} by it, its response {@link #responseBegun begins};
 * any step may instead end in {@link #failed}. Every exchange ends with exactly one {@link #finished}.
 * Calls come on the servlets' threads and must return quickly; every method does nothing by default.
 */
public interface ExchangeObserver {
  /** Observes nothing. */
  ExchangeObserver NONE = new ExchangeObserver() {};

  default void received(ObservedExchange exchange) {}

  /**
   * The route chosen for the exchange: {@link Route.Kind#LIVE} goes on to its agent, {@link
   * Route.Kind#NOT_LIVE} and {@link Route.Kind#NO_MATCH} (whose backend is null) fail next.
   */
  default void routed(ObservedExchange exchange, Route.Kind kind) {}

  /** Queued for the backend's agent under {@link ObservedExchange#requestId()}. */
  default void queued(ObservedExchange exchange) {}

  /**
   * An agent fetched queued request {@code requestId} ({@code agent/request}, or the answer to its
   * previous response), or its channel sent it (where the store's channels are wrapped in
   * {@link ObservedChannelDelivery}). An agent may take a request the moment it is queued, so this may
   * come before {@link #queued}.
   */
  default void taken(String backend, String requestId) {}

  /** The agent's response head reached the client's side with {@code status}. */
  default void responseBegun(ObservedExchange exchange, int status) {}

  /** The exchange failed for {@code reason}; {@code status} is what the client got (0: aborted). */
  default void failed(ObservedExchange exchange, Failure reason, int status) {}

  /** The exchange ended; exactly once per {@link #received} exchange. */
  default void finished(ObservedExchange exchange, Finished end) {}

  /** An agent's call was answered. */
  default void agentCall(AgentCall call) {}
}
