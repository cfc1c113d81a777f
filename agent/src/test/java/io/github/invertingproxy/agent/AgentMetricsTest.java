package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.metrics.AgentMetrics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The agent's Prometheus metrics, scraped over HTTP from their own listener after known traffic. */
public class AgentMetricsTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @Rule public final AgentPeers peers = new AgentPeers();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private AgentMetrics metrics;

  @Before
  public void startMetrics() throws Exception {
    metrics = new AgentMetrics("127.0.0.1:0").start();
  }

  @After
  public void stopMetrics() {
    metrics.close();
  }

  private static byte[] get(String path) {
    return ("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metrics.url())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  private static Double sample(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    return null;
  }

  /** Scrapes until {@code series} has {@code value}: the agent counts a response once the proxy has answered it. */
  private String scrapeUntil(String series, double value) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String scraped = scrape();
    while (sample(scraped, series) == null || sample(scraped, series) != value) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("expected " + series + " " + value + " in:\n" + scraped);
      }
      Thread.sleep(20);
      scraped = scrape();
    }
    return scraped;
  }

  @Test
  public void forwardedRequestsAreCountedByStatusClass() throws Exception {
    peers.backend.respondWith((request, out) -> {
      String status = request.head().path().startsWith("/missing") ? "404 Not Found" : "200 OK";
      out.write(("HTTP/1.1 " + status + "\r\nContent-Length: 2\r\n\r\nok").getBytes(StandardCharsets.ISO_8859_1));
      return true;
    });
    peers.start(b -> b.observer(metrics));
    for (String id : new String[] {"r1", "r2", "r3"}) {
      peers.proxy.enqueue(id, get("/" + id));
      peers.proxy.awaitResponse(id, WAIT);
    }
    peers.proxy.enqueue("r4", get("/missing"));
    peers.proxy.awaitResponse("r4", WAIT);

    scrapeUntil("inverting_proxy_agent_requests_forwarded_total{status=\"4xx\"}", 1);
    String scraped = scrapeUntil("inverting_proxy_agent_requests_forwarded_total{status=\"2xx\"}", 3);
    assertEquals(Double.valueOf(0), sample(scraped, "inverting_proxy_agent_backend_errors_total"));
    assertEquals(Double.valueOf(0), sample(scraped, "inverting_proxy_agent_requests_in_flight"));
  }

  @Test
  public void aRequestAtTheBackendIsInFlightUntilItsResponseReachesTheProxy() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    peers.backend.respondWith((request, out) -> {
      release.await(10, TimeUnit.SECONDS);
      return RawBackend.OK.respond(request, out);
    });
    peers.start(b -> b.observer(metrics));
    peers.proxy.enqueue("r1", get("/slow"));
    scrapeUntil("inverting_proxy_agent_requests_in_flight", 1);
    release.countDown();
    peers.proxy.awaitResponse("r1", WAIT);
    scrapeUntil("inverting_proxy_agent_requests_in_flight", 0);
  }

  @Test
  public void aRequestTheStoppingAgentAnswersWith503IsForwardedAndNoLongerInFlight() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    peers.backend.respondWith((request, out) -> {
      release.await(10, TimeUnit.SECONDS);
      return RawBackend.OK.respond(request, out);
    });
    ForwardingAgent agent = peers.start(b -> b.observer(metrics));
    try {
      peers.proxy.enqueue("r1", get("/slow"));
      scrapeUntil("inverting_proxy_agent_requests_in_flight", 1);
      agent.close(); // the backend outlasts the grace period: the agent answers 503 itself
      scrapeUntil("inverting_proxy_agent_requests_forwarded_total{status=\"5xx\"}", 1);
      scrapeUntil("inverting_proxy_agent_requests_in_flight", 0);
    } finally {
      release.countDown();
    }
  }

  @Test
  public void anUnreachableBackendCountsABackendErrorAndA5xx() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    peers.start(b -> b.observer(metrics).target("127.0.0.1:" + closedPort));
    peers.proxy.enqueue("r1", get("/"));
    assertEquals(502, peers.proxy.awaitResponse("r1", WAIT).head.status());

    String scraped = scrapeUntil("inverting_proxy_agent_requests_forwarded_total{status=\"5xx\"}", 1);
    assertEquals(Double.valueOf(1), sample(scraped, "inverting_proxy_agent_backend_errors_total"));
  }

  @Test
  public void aFailedPollIsCountedAsAPendingCallFailure() throws Exception {
    peers.proxy.scriptPending(500, "proxy trouble");
    peers.start(b -> b.observer(metrics));
    scrapeUntil("inverting_proxy_agent_proxy_call_failures_total{call=\"pending\"}", 1);
  }

  @Test
  public void aRotatedTokenFileCountsAsACredentialRefresh() throws Exception {
    Path token = tmp.getRoot().toPath().resolve("token");
    Files.writeString(token, "first-token");
    peers.start(b -> b.observer(metrics).credentials(ProxyCredentials.tokenFile(token)));
    scrapeUntil("inverting_proxy_agent_credential_refreshes_total", 1);

    Files.writeString(token, "the-second-token");
    scrapeUntil("inverting_proxy_agent_credential_refreshes_total", 2);
    Files.delete(token);
    String scraped = scrape();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sample(scraped, "inverting_proxy_agent_credential_refresh_failures_total") < 1) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no credential refresh failure counted:\n" + scraped);
      }
      Thread.sleep(20);
      scraped = scrape();
    }
  }
}
