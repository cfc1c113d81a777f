package io.github.invertingproxy.core.spi;

import java.io.IOException;

/**
 * A client waiting for its response without a thread of its own, given to
 * {@link ExchangeStore#awaitResponseAsync}. Exactly one of its methods is called, once.
 */
public interface ResponseWaiter {
  /**
   * The agent's response began: relay it. Runs on the thread that brought it. When the response is
   * {@link AgentResponse#whole() whole}, that thread serves other exchanges too (a channel's reader)
   * and must not wait; otherwise it is the agent's own call, which may wait while the response
   * streams. When the response was already there, runs on the thread that began the wait.
   */
  void onResponse(AgentResponse response);

  /** No response began within the wait. */
  void onTimeout();

  /** The request could not be delivered to the agent. */
  void onFailure(IOException failure);

  /** The proxy is shutting down: no response will come. */
  void onShutdown();
}
