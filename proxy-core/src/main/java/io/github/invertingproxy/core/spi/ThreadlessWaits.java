package io.github.invertingproxy.core.spi;

/**
 * A store's capability to end the waits of clients that wait without a thread
 * ({@link ExchangeStore#awaitResponseAsync}) when the proxy stops; obtained with
 * {@link ExchangeStore#capability}.
 */
public interface ThreadlessWaits {
  /**
   * Ends every thread-less wait ({@link ResponseWaiter#onShutdown}), before the server stops: its
   * clients are answered rather than cut off. Clients waiting with a thread end as their threads do.
   */
  void endWaits();
}
