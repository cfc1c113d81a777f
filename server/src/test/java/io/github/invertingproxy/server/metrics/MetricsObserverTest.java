package io.github.invertingproxy.server.metrics;

import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.observe.Finished;
import io.github.invertingproxy.core.observe.ObservedExchange;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

/** The waiting-requests gauge, whatever order an agent's take and the servlet's queueing are reported in. */
public class MetricsObserverTest {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final MetricsObserver metrics = new MetricsObserver(registry);
  private final ObservedExchange exchange = ObservedExchange.arrived("GET", "/x", 0, System.nanoTime())
      .withUser("alice@example.com").routedTo("b1").queuedAs("id-1");

  private String text() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void aQueuedRequestWaitsUntilTaken() throws Exception {
    metrics.queued(exchange);
    assertTrue(text(), text().contains("inverting_proxy_waiting_requests{backend=\"b1\"} 1.0\n"));
    metrics.taken("b1", "id-1");
    assertTrue(text(), text().contains("inverting_proxy_waiting_requests{backend=\"b1\"} 0.0\n"));
  }

  @Test
  public void aRequestTakenBeforeItsQueueingWasReportedNeverCountsAsWaiting() throws Exception {
    metrics.taken("b1", "id-1");
    metrics.queued(exchange);
    assertTrue(text(), !text().contains("inverting_proxy_waiting_requests{backend=\"b1\"} 1.0"));
    metrics.finished(exchange, new Finished(200, 0, 2, 1_000_000));
    assertTrue(text(), text().contains("inverting_proxy_requests_total{backend=\"b1\",status=\"2xx\"} 1.0\n"));
  }
}
