package io.github.invertingproxy.server.metrics;

import io.github.invertingproxy.commandline.ListenAddress;
import io.github.invertingproxy.commandline.MetricsListener;
import io.github.invertingproxy.core.memory.InMemoryBackendRegistry;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.protocol.BackendRecord;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.IntSupplier;

/**
 * The stand-alone server's metrics and the listener that serves them ({@code --metrics-bind}): the
 * exchanges' (see {@link MetricsObserver}), plus what is read when scraped: which backends' agents
 * are live and how many WebSockets are open.
 */
public final class ServerMetrics implements AutoCloseable {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final MetricsObserver observer = new MetricsObserver(registry);
  private final MetricsListener listener;

  /** @param openWebSockets the relayed WebSockets open now; null when the server carries none */
  public ServerMetrics(String bind, InMemoryBackendRegistry backends, IntSupplier openWebSockets) {
    GaugeWithCallback.builder().name("inverting_proxy_live_agents")
        .help("1 for each registered backend whose agent polled within the live window, else 0")
        .labelNames("backend")
        .callback(g -> {
          for (BackendRecord r : backends.list()) {
            g.call(backends.live(r.id()) ? 1 : 0, r.id());
          }
        }).register(registry);
    GaugeWithCallback.builder().name("inverting_proxy_open_websockets")
        .help("WebSockets relayed between a client and an agent now")
        .callback(g -> g.call(openWebSockets == null ? 0 : openWebSockets.getAsInt())).register(registry);
    this.listener = new MetricsListener(address(bind), registry);
  }

  /** Throws a one-line IllegalArgumentException when {@code bind} is not {@code HOST:PORT}. */
  public static void checkBind(String bind) {
    address(bind);
  }

  private static InetSocketAddress address(String bind) {
    return ListenAddress.parse("--metrics-bind", bind, "127.0.0.1:9090");
  }

  public ExchangeObserver observer() {
    return observer;
  }

  public void start() throws IOException {
    listener.start();
  }

  /** Where the metrics are scraped, {@code http://host:port/metrics}; once started. */
  public String url() {
    return listener.url();
  }

  @Override
  public void close() {
    listener.close();
  }
}
