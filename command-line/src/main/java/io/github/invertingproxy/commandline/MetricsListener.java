package io.github.invertingproxy.commandline;

import static java.util.Objects.requireNonNull;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listener of its own ({@code --metrics-bind}) that serves a registry at {@code /metrics} in
 * Prometheus's text format, apart from the ports that carry traffic; the server's and the agent's.
 */
public final class MetricsListener implements AutoCloseable {
  private final InetSocketAddress address;
  private final PrometheusRegistry registry;
  private HTTPServer server;

  /** @param address as {@link ListenAddress#parse} gives it; port 0 picks a free one */
  public MetricsListener(InetSocketAddress address, PrometheusRegistry registry) {
    this.address = requireNonNull(address, "address");
    this.registry = requireNonNull(registry, "registry");
  }

  /** @throws IOException naming the address when it cannot be bound */
  public synchronized void start() throws IOException {
    try {
      server = HTTPServer.builder().hostname(address.getHostString()).port(address.getPort()).registry(registry)
          .buildAndStart();
    } catch (IOException e) {
      throw new IOException("metrics listener on " + address.getHostString() + ":" + address.getPort() + ": "
          + e.getMessage(), e);
    }
  }

  /** {@code http://host:port/metrics}, once started. */
  public synchronized String url() {
    if (server == null) {
      throw new IllegalStateException("the metrics listener is not started");
    }
    String host = address.getHostString();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.getPort() + "/metrics";
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close();
      server = null;
    }
  }
}
