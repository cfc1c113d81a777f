package io.github.invertingproxy.agent.metrics;

import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.commandline.ListenAddress;
import io.github.invertingproxy.commandline.MetricsListener;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's Prometheus metrics, counted as an {@link AgentObserver} and served on a listener of
 * their own ({@code --metrics-bind HOST:PORT}, path {@code /metrics}).
 */
public final class AgentMetrics implements AgentObserver, AutoCloseable {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final MetricsListener listener;
  private final Counter forwarded;
  private final Counter backendErrors;
  private final Counter proxyCallFailures;
  private final Counter refreshes;
  private final Counter refreshFailures;
  /** The requests received and not yet answered to the proxy, by id (a request may be reported twice). */
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

  /** @param bind {@code HOST:PORT} ({@code [::1]:9090} for IPv6); port 0 picks a free one */
  public AgentMetrics(String bind) {
    this.listener = new MetricsListener(address(bind), registry);
    forwarded = Counter.builder().name("inverting_proxy_agent_requests_forwarded_total")
        .help("Responses delivered to the proxy, by status class (the agent's own 502s included)")
        .labelNames("status").register(registry);
    backendErrors = Counter.builder().name("inverting_proxy_agent_backend_errors_total")
        .help("Requests whose backend gave no (whole) response: refused, reset, timed out").register(registry);
    proxyCallFailures = Counter.builder().name("inverting_proxy_agent_proxy_call_failures_total")
        .help("Calls to the proxy that failed, by call (pending, request, response)")
        .labelNames("call").register(registry);
    refreshes = Counter.builder().name("inverting_proxy_agent_credential_refreshes_total")
        .help("Proxy credentials fetched or read anew").register(registry);
    refreshFailures = Counter.builder().name("inverting_proxy_agent_credential_refresh_failures_total")
        .help("Failed fetches or reads of the proxy credential").register(registry);
    GaugeWithCallback.builder().name("inverting_proxy_agent_requests_in_flight")
        .help("Requests received from the proxy whose response has not reached it yet")
        .callback(g -> g.call(inFlight.size())).register(registry);
  }

  /** Parses {@code HOST:PORT}; a one-line message naming the flag when it is not one. */
  public static InetSocketAddress address(String bind) {
    return ListenAddress.parse("--metrics-bind", bind, "127.0.0.1:9091");
  }

  /** Starts serving {@code /metrics}. */
  public AgentMetrics start() throws IOException {
    listener.start();
    return this;
  }

  /** {@code http://host:port/metrics}, once started. */
  public String url() {
    return listener.url();
  }

  @Override
  public void received(String requestId) {
    inFlight.add(requestId);
  }

  @Override
  public void forwarded(String requestId, Forwarded outcome) {
    inFlight.remove(requestId);
    forwarded.labelValues(outcome.status() / 100 + "xx").inc();
    if (outcome.backendFailure() != null) {
      backendErrors.inc();
    }
  }

  @Override
  public void dropped(String requestId) {
    inFlight.remove(requestId);
  }

  @Override
  public void proxyCallFailed(ProxyCall call) {
    proxyCallFailures.labelValues(call.label()).inc();
  }

  @Override
  public void credentialRefreshed() {
    refreshes.inc();
  }

  @Override
  public void credentialRefreshFailed() {
    refreshFailures.inc();
  }

  @Override
  public void close() {
    listener.close();
  }
}
