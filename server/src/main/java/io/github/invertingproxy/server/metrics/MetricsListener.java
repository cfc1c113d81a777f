package io.github.invertingproxy.server.metrics;

import io.github.invertingproxy.commandline.ListenAddress;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;

/** A listener of its own that serves {@code /metrics} in Prometheus's text format, apart from the proxy's ports. */
public final class MetricsListener implements AutoCloseable {
  private final InetSocketAddress address;
  private final PrometheusRegistry registry;
  private HTTPServer server;

  /** @param bind {@code HOST:PORT} ({@code [::1]:9090} for IPv6); port 0 picks a free one */
  public MetricsListener(String bind, PrometheusRegistry registry) {
    this.address = address(bind);
    this.registry = registry;
  }

  /** Parses {@code HOST:PORT}; a one-line message naming the flag when it is not one. */
  public static InetSocketAddress address(String bind) {
    return ListenAddress.parse("--metrics-bind", bind, "127.0.0.1:9090");
  }

  public synchronized void start() throws IOException {
    try {
      server = HTTPServer.builder().hostname(address.getHostString()).port(address.getPort()).registry(registry)
          .buildAndStart();
    } catch (IOException e) {
      throw new IOException("metrics listener on " + address.getHostString() + ":" + address.getPort() + ": " + e.getMessage(), e);
    }
  }

  /** {@code http://host:port/metrics}. */
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
