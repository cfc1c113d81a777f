package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The server's Prometheus metrics, scraped over HTTP from their own listener after known traffic. */
public class ServerMetricsTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().metricsBind("127.0.0.1:0")
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(1)).pendingTimeout(Duration.ofSeconds(1)).build()));
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  /** The scraped metrics in Prometheus's text format. */
  static String scrape(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /** The value of the sample {@code series} (name and labels exactly as exposed); fails when absent. */
  static double sample(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    throw new AssertionError("no sample " + series + " in:\n" + metrics);
  }

  /** Scrapes until {@code series} has {@code value} (the last steps are counted after the client's answer). */
  private String scrapeUntil(String series, double value) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String metrics = scrape(app.server.metricsUrl());
    while (!metrics.contains(series + " ") || sample(metrics, series) != value) {
      if (System.nanoTime() > deadline) {
        assertEquals(series, value, sample(metrics, series), 0);
      }
      Thread.sleep(20);
      metrics = scrape(app.server.metricsUrl());
    }
    return metrics;
  }

  private void serveOne(String path) throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(app.to(path).POST(HttpRequest.BodyPublishers.ofString("abcd")));
    String id = app.agent.pendingWithin(5).get(0);
    assertEquals(200, app.agent.take(id).statusCode());
    app.agent.respond(id, AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
    assertEquals(200, client.get(10, TimeUnit.SECONDS).statusCode());
  }

  @Test
  public void servedRequestsAreCountedByBackendAndStatusClassWithTheirBytesAndLatencies() throws Exception {
    for (int i = 0; i < 3; i++) {
      serveOne("r" + i);
    }
    String metrics = scrapeUntil("inverting_proxy_requests_total{backend=\"alice-app\",status=\"2xx\"}", 3);
    assertEquals(12, sample(metrics, "inverting_proxy_request_bytes_total{backend=\"alice-app\"}"), 0);
    assertEquals(15, sample(metrics, "inverting_proxy_response_bytes_total{backend=\"alice-app\"}"), 0);
    assertEquals(3, sample(metrics, "inverting_proxy_first_byte_seconds_count{backend=\"alice-app\"}"), 0);
    assertEquals(3, sample(metrics, "inverting_proxy_request_duration_seconds_count{backend=\"alice-app\"}"), 0);
    assertEquals(0, sample(metrics, "inverting_proxy_waiting_requests{backend=\"alice-app\"}"), 0);
    assertEquals(1, sample(metrics, "inverting_proxy_live_agents{backend=\"alice-app\"}"), 0);
    assertEquals(0, sample(metrics, "inverting_proxy_open_websockets"), 0);
    assertEquals(3, sample(metrics, "inverting_proxy_agent_calls_total{kind=\"request\",outcome=\"2xx\"}"), 0);
    scrapeUntil("inverting_proxy_agent_calls_total{kind=\"response\",outcome=\"2xx\"}", 3);
  }

  @Test
  public void aRequestWaitingForItsAgentIsCountedUntilTheAgentTakesIt() throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(app.to("wait"));
    String id = app.agent.pendingWithin(5).get(0);
    scrapeUntil("inverting_proxy_waiting_requests{backend=\"alice-app\"}", 1);
    app.agent.take(id);
    scrapeUntil("inverting_proxy_waiting_requests{backend=\"alice-app\"}", 0);
    app.agent.respond(id, AliceApp.wire("HTTP/1.1 204 No Content\r\n\r\n"));
    assertEquals(204, client.get(10, TimeUnit.SECONDS).statusCode());
  }

  @Test
  public void aBackendWhoseAgentIsNotPollingCountsA503() throws Exception {
    app.server.registry().add(BackendRecord.builder().id("idle-app").endUser("alice@example.com")
        .backendUser("agent@example.com").pathPrefixes("/idle/").build());
    assertEquals(503, app.client(app.to("idle/x")).get(10, TimeUnit.SECONDS).statusCode());
    String metrics = scrapeUntil("inverting_proxy_requests_total{backend=\"idle-app\",status=\"5xx\"}", 1);
    assertEquals(1, sample(metrics, "inverting_proxy_failed_requests_total{backend=\"idle-app\",reason=\"not_live\",status=\"503\"}"), 0);
    assertEquals(0, sample(metrics, "inverting_proxy_live_agents{backend=\"idle-app\"}"), 0);
  }

  @Test
  public void anAgentThatNeverAnswersCountsA504() throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(app.to("slow"));
    app.agent.take(app.agent.pendingWithin(5).get(0));
    assertEquals(504, client.get(10, TimeUnit.SECONDS).statusCode());
    String metrics = scrapeUntil("inverting_proxy_requests_total{backend=\"alice-app\",status=\"5xx\"}", 1);
    assertEquals(1, sample(metrics, "inverting_proxy_failed_requests_total{backend=\"alice-app\",reason=\"timeout\",status=\"504\"}"), 0);
  }

  @Test
  public void aMetricsBindThatIsNotHostAndPortIsRefusedInOneLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StandaloneServer.builder().metricsBind("9090"));
    assertEquals("--metrics-bind must be HOST:PORT (e.g. 127.0.0.1:9090), not \"9090\"", e.getMessage());
    assertTrue(StandaloneServer.builder().metricsBind("[::1]:0") != null);
  }
}
