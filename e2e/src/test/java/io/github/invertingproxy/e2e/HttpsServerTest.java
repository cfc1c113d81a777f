package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.proxy.ProxyTrust;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.StandaloneServer;
import io.github.invertingproxy.server.tls.CertificateFiles;
import io.github.invertingproxy.server.tls.TestCertificates;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Clients and our agent reach a backend through the stand-alone server speaking HTTPS with a private authority's certificate. */
public class HttpsServerTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private TestCertificates ca;
  private Path caPem;
  private Path cert;
  private Path key;
  private StandaloneServer server;
  private RecordingBackend backend;
  private final List<ForwardingAgent> agents = new CopyOnWriteArrayList<>();

  @Before
  public void start() throws Exception {
    ca = TestCertificates.authority("E2E Private CA");
    caPem = ca.writeCertificate(tmp.getRoot().toPath().resolve("ca.pem"));
    TestCertificates.Issued issued = ca.issue("RSA");
    cert = issued.writeChain(tmp.getRoot().toPath().resolve("fullchain.pem"));
    key = issued.writeTraditionalKey(tmp.getRoot().toPath().resolve("privkey.pem"));
    backend = new RecordingBackend((r, body, out) -> {
      String text = "ok " + r.head().target();
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + text.length() + "\r\n\r\n" + text).getBytes(ISO_8859_1));
    });
    server = StandaloneServer.builder().port(0).tls(new CertificateFiles(cert, key))
        .certificateCheckInterval(Duration.ofMillis(100))
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(20)).build())
        .build().start();
    for (String id : new String[] {"b", "untrusting"}) {
      server.registry().add(BackendRecord.builder().id(id).endUser("allUsers").backendUser("agent@example.com")
          .pathPrefixes("/" + id + "/").build());
    }
  }

  @After
  public void stop() throws Exception {
    for (ForwardingAgent agent : agents) {
      agent.close();
    }
    server.close();
    backend.close();
  }

  private ForwardingAgent agent(String id, boolean withCaCert) throws Exception {
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(server.url()).backendId(id).target(backend.hostAndPort())
        .credentials(ProxyCredentials.none()).proxyTimeout(Duration.ofSeconds(30))
        .proxyTrust(withCaCert ? ProxyTrust.systemAnd(caPem) : null).build();
    agents.add(agent);
    agent.start();
    return agent;
  }

  private void awaitPolling(String id) throws InterruptedException {
    Instant started = Instant.now().minusMillis(5);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (server.registry().lastSeen(id).filter(t -> t.isAfter(started)).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("agent for " + id + " did not poll within 10 s");
      }
      Thread.sleep(10);
    }
  }

  private HttpClient client(HttpClient.Version version) throws Exception {
    return HttpClient.newBuilder().version(version).sslContext(ca.trustingContext())
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  private HttpResponse<String> get(HttpClient client, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static BigInteger serialOf(HttpResponse<?> response) throws Exception {
    return ((X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0]).getSerialNumber();
  }

  @Test
  public void anHttp2ClientReachesTheBackendThroughAnAgentTrustingThePrivateAuthority() throws Exception {
    agent("b", true);
    awaitPolling("b");

    HttpResponse<String> h2 = get(client(HttpClient.Version.HTTP_2), "b/over-h2?x=1");
    HttpResponse<String> h1 = get(client(HttpClient.Version.HTTP_1_1), "b/over-h1");

    assertEquals(HttpClient.Version.HTTP_2, h2.version());
    assertEquals(200, h2.statusCode());
    assertEquals("ok /b/over-h2?x=1", h2.body());
    assertEquals(HttpClient.Version.HTTP_1_1, h1.version());
    assertEquals("ok /b/over-h1", h1.body());
    // The agent's channel is a WebSocket upgrade over HTTP/1.1, through TLS like everything else.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (server.openWebSocketConnections() < 1) {
      assertTrue("the agent's channel WebSocket did not open within 10 s", System.nanoTime() < deadline);
      Thread.sleep(20);
    }
  }

  @Test
  public void anAgentWithoutTheAuthorityRefusesTheCertificateSayingWhy() throws Exception {
    List<String> warnings = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        warnings.add(record.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    // The agent's classes log under its package, each by its own name.
    Logger agentLog = Logger.getLogger(ForwardingAgent.class.getPackageName());
    agentLog.addHandler(capture);
    try {
      agent("untrusting", false);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (warnings.stream().noneMatch(m -> m.contains("polling the proxy failed"))) {
        assertTrue("no warning about the proxy's certificate within 10 s", System.nanoTime() < deadline);
        Thread.sleep(20);
      }
    } finally {
      agentLog.removeHandler(capture);
    }
    String warning = warnings.stream().filter(m -> m.contains("polling the proxy failed")).findFirst().orElseThrow();
    assertTrue(warning, warning.contains("the proxy's certificate is not signed by an authority this agent trusts"
        + " (a private authority's certificate goes in --ca-cert)"));
    assertTrue("the proxy saw a poll from an agent that refused its certificate",
        server.registry().lastSeen("untrusting").isEmpty());
  }

  @Test
  public void aRenewalReachesNewConnectionsWhileTrafficFlowsOnOldOnes() throws Exception {
    agent("b", true);
    awaitPolling("b");
    HttpClient longLived = client(HttpClient.Version.HTTP_2);
    BigInteger first = serialOf(get(longLived, "b/before"));
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger served = new AtomicInteger();
    List<String> failures = new CopyOnWriteArrayList<>();
    List<BigInteger> serialsSeen = new CopyOnWriteArrayList<>();
    ExecutorService traffic = Executors.newSingleThreadExecutor();
    Future<?> loop = traffic.submit(() -> {
      for (int i = 0; running.get() && i < 10_000; i++) {
        try {
          HttpResponse<String> r = get(longLived, "b/during-" + i);
          if (!r.body().equals("ok /b/during-" + i)) {
            failures.add(r.statusCode() + " " + r.body());
          }
          serialsSeen.add(serialOf(r));
          served.incrementAndGet();
        } catch (Exception e) {
          failures.add(String.valueOf(e));
        }
      }
      return null;
    });
    try {
      awaitServed(served, 5);
      TestCertificates.Issued renewed = ca.issue("EC");
      renewed.writePkcs8Key(key);
      renewed.writeChain(cert);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!server.certificates().serial().equals(renewed.serial())) {
        assertTrue("the renewed certificate was not loaded within 10 s", System.nanoTime() < deadline);
        Thread.sleep(20);
      }
      int servedAtRenewal = served.get();
      HttpResponse<String> fresh = get(client(HttpClient.Version.HTTP_2), "b/after");
      awaitServed(served, servedAtRenewal + 5);

      assertEquals("ok /b/after", fresh.body());
      assertEquals(renewed.serial(), serialOf(fresh));
      assertNotEquals(first, renewed.serial());
    } finally {
      running.set(false);
      loop.get(30, TimeUnit.SECONDS);
      traffic.shutdown();
    }
    assertEquals(List.of(), failures);
    // The client's connection, opened before the renewal, carried every request with the first certificate.
    assertTrue(serialsSeen.stream().allMatch(first::equals));
  }

  private static void awaitServed(AtomicInteger served, int atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (served.get() < atLeast) {
      assertTrue("only " + served.get() + " requests served, waiting for " + atLeast, System.nanoTime() < deadline);
      Thread.sleep(10);
    }
  }
}
