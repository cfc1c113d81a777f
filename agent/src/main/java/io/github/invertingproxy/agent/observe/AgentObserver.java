package io.github.invertingproxy.agent.observe;

import java.util.Locale;

/**
 * What happens in the agent: each request's way to the backend and back, the proxy calls that fail,
 * the credentials' refreshes. The metrics are one observer ({@code --metrics-bind}). Calls come on
 * the agent's threads and must return quickly; every method does nothing by default.
 */
public interface AgentObserver {
  /** Observes nothing. */
  AgentObserver NONE = new AgentObserver() {};

  /** A call of the agent to the proxy. */
  enum ProxyCall {
    PENDING, REQUEST, RESPONSE;

    /** Its label: the call's path under {@code agent/}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * How a request's response went back to the proxy.
   *
   * @param status the response's status: the backend's, or the agent's own 502 when the backend failed
   *     (503 when the agent stopped before the backend answered)
   * @param backendFailure why the backend gave no (whole) response; null when it did
   * @param proxyStatus how the proxy answered the response (200; 404 when its client was gone)
   */
  record Forwarded(int status, String backendFailure, int proxyStatus) {}

  /** Request {@code requestId} was received from the proxy and goes to the backend (WebSocket upgrades aside). */
  default void received(String requestId) {}

  /** The response to {@code requestId} reached the proxy. */
  default void forwarded(String requestId, Forwarded outcome) {}

  /** The response to {@code requestId} could not be delivered to the proxy (see {@link #proxyCallFailed}). */
  default void dropped(String requestId) {}

  /** A call to the proxy failed (after its retries, if any): a network error, or an answer it could not use. */
  default void proxyCallFailed(ProxyCall call) {}

  /** The proxy credential was fetched or read anew. */
  default void credentialRefreshed() {}

  /** Fetching or reading the proxy credential failed. */
  default void credentialRefreshFailed() {}
}
