package io.github.invertingproxy.server.metrics;

import io.github.invertingproxy.core.observe.AgentCall;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.observe.Failure;
import io.github.invertingproxy.core.observe.Finished;
import io.github.invertingproxy.core.observe.ObservedExchange;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stand-alone server's exchange metrics, counted from the exchanges' steps. Backend labels are
 * the registered backends' ids ({@code -} when no backend was chosen), so their number stays that of
 * the records.
 */
public final class MetricsObserver implements ExchangeObserver {
  /** Seconds; up to the longest response timeouts, which a waiting client may reach. */
  private static final double[] LATENCY_BOUNDS =
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  private static final String NONE = "-";

  private final Counter requests;
  private final Counter failures;
  private final Histogram firstByte;
  private final Histogram duration;
  private final Counter bytesIn;
  private final Counter bytesOut;
  private final Gauge waiting;
  private final Counter agentCalls;
  /** The queued exchanges no agent has taken yet, by request id: their backend. */
  private final Map<String, String> queued = new ConcurrentHashMap<>();
  /** Requests taken before their queueing was reported (an agent may be that quick); until it is. */
  private final Set<String> takenEarly = ConcurrentHashMap.newKeySet();

  public MetricsObserver(PrometheusRegistry registry) {
    requests = Counter.builder().name("inverting_proxy_requests_total")
        .help("Client requests that finished, by backend and status class (aborted: cut off mid-response)")
        .labelNames("backend", "status").register(registry);
    failures = Counter.builder().name("inverting_proxy_failed_requests_total")
        .help("Client requests that got no whole response from their backend, by reason and status")
        .labelNames("backend", "reason", "status").register(registry);
    firstByte = Histogram.builder().name("inverting_proxy_first_byte_seconds")
        .help("From a request's arrival to its agent's response head").labelNames("backend")
        .classicOnly().classicUpperBounds(LATENCY_BOUNDS).register(registry);
    duration = Histogram.builder().name("inverting_proxy_request_duration_seconds")
        .help("From a request's arrival to the end of its response").labelNames("backend")
        .classicOnly().classicUpperBounds(LATENCY_BOUNDS).register(registry);
    bytesIn = Counter.builder().name("inverting_proxy_request_bytes_total")
        .help("Request body bytes, as the clients declared them").labelNames("backend").register(registry);
    bytesOut = Counter.builder().name("inverting_proxy_response_bytes_total")
        .help("Response body bytes relayed to clients").labelNames("backend").register(registry);
    waiting = Gauge.builder().name("inverting_proxy_waiting_requests")
        .help("Requests queued for an agent that no agent has taken yet").labelNames("backend").register(registry);
    agentCalls = Counter.builder().name("inverting_proxy_agent_calls_total")
        .help("Calls of the agents (pending, request, response, websocket, channel) by status class")
        .labelNames("kind", "outcome").register(registry);
  }

  /** {@code 2xx} for 200 to 299 and so on; {@code aborted} for 0, a connection cut off. */
  static String statusClass(int status) {
    return status <= 0 ? "aborted" : (status / 100) + "xx";
  }

  private static String backend(ObservedExchange e) {
    return e.backend() == null ? NONE : e.backend();
  }

  @Override
  public void queued(ObservedExchange exchange) {
    if (takenEarly.remove(exchange.requestId())) {
      return;
    }
    queued.put(exchange.requestId(), backend(exchange));
    waiting.labelValues(backend(exchange)).inc();
  }

  @Override
  public void taken(String backend, String requestId) {
    if (!leftQueue(requestId)) {
      takenEarly.add(requestId);
    }
  }

  /** True when {@code requestId} was waiting. */
  private boolean leftQueue(String requestId) {
    String backend = requestId == null ? null : queued.remove(requestId);
    if (backend != null) {
      waiting.labelValues(backend).dec();
    }
    return backend != null;
  }

  @Override
  public void responseBegun(ObservedExchange exchange, int status) {
    // A store without channel reports, or a request whose take went unreported: its response says it.
    leftQueue(exchange.requestId());
    firstByte.labelValues(backend(exchange)).observe(exchange.elapsedNanos() / 1e9);
  }

  @Override
  public void failed(ObservedExchange exchange, Failure reason, int status) {
    failures.labelValues(backend(exchange), reason.name().toLowerCase(Locale.ROOT), statusClassOrCode(status)).inc();
  }

  private static String statusClassOrCode(int status) {
    return status <= 0 ? "aborted" : Integer.toString(status);
  }

  @Override
  public void finished(ObservedExchange exchange, Finished end) {
    if (exchange.requestId() != null) {
      takenEarly.remove(exchange.requestId());
      leftQueue(exchange.requestId());
    }
    String backend = backend(exchange);
    requests.labelValues(backend, statusClass(end.status())).inc();
    duration.labelValues(backend).observe(end.latencyNanos() / 1e9);
    bytesIn.labelValues(backend).inc(end.bytesIn());
    bytesOut.labelValues(backend).inc(end.bytesOut());
  }

  @Override
  public void agentCall(AgentCall call) {
    agentCalls.labelValues(call.kind().label(), statusClass(call.status())).inc();
  }
}
