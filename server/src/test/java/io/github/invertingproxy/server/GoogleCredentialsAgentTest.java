package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.github.invertingproxy.agent.AgentMain;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.google.GoogleIdentity;
import java.io.File;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Our agent, in its own JVM on a "GCE VM" (a fake metadata server in {@code GCE_METADATA_HOST}),
 * with {@code --credentials id-token --audience AUD}, serves its backend through a server that runs
 * {@code --auth google --google-audience AUD}: the credentials it uses on App Engine work here.
 */
public class GoogleCredentialsAgentTest {
  private static final String AUDIENCE = "https://proxy.example.com";
  private static final String ALICE = "alice@example.com";

  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private FakeGoogleKeys google;
  private HttpServer backend;
  private StandaloneServer server;
  private Process agent;
  private Path agentLog;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    google = new FakeGoogleKeys();
    google.grantAccessToken("ya29.alice", ALICE);
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    backend.createContext("/", e -> {
      byte[] body = ("hello from the backend at " + e.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
      e.sendResponseHeaders(200, body.length);
      try (OutputStream out = e.getResponseBody()) {
        out.write(body);
      }
    });
    backend.start();
    server = StandaloneServer.builder().port(0).adminPort(0)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(2)).build())
        .identity(GoogleIdentity.builder().googleTokens(AUDIENCE)
            .googleCertsUrl(google.googleCertsUrl()).tokenInfoUrl(google.tokenInfoUrl()).build())
        .build().start();
    server.registry().add(BackendRecord.builder().id("notebook").endUser(ALICE).backendUser(FakeGoogleKeys.VM_ACCOUNT)
        .pathPrefixes("/").build());
    agentLog = temp.newFile("agent.log").toPath();
  }

  @After
  public void stop() throws Exception {
    if (agent != null) {
      agent.destroyForcibly().waitFor();
    }
    server.close();
    backend.stop(0);
    google.close();
  }

  private void startAgent(String... credentials) throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        AgentMain.class.getName(), "--proxy", server.url(), "--backend", "notebook",
        "--host", "127.0.0.1:" + backend.getAddress().getPort()));
    command.addAll(List.of(credentials));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(agentLog.toFile());
    Map<String, String> env = builder.environment();
    String empty = temp.newFolder().toString();
    // No gcloud and no credential files: the metadata server is the only source of credentials.
    env.keySet().removeIf(k -> k.startsWith("GOOGLE_") || k.startsWith("CLOUDSDK_") || k.equals("NO_GCE_CHECK"));
    env.put("PATH", empty);
    env.put("HOME", empty);
    env.put("GCE_METADATA_HOST", google.metadataHost());
    agent = builder.start();
  }

  /** Alice's request, once the agent serves it; fails with the agent's log if it never does. */
  private HttpResponse<String> aliceGetsWithin(Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    HttpResponse<String> last = null;
    while (System.nanoTime() < deadline && agent.isAlive()) {
      last = http.send(HttpRequest.newBuilder(URI.create(server.url() + "lab")).timeout(Duration.ofSeconds(30))
          .header("Authorization", "Bearer ya29.alice").build(), HttpResponse.BodyHandlers.ofString());
      if (last.statusCode() == 200) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("never served; last answer " + (last == null ? "none" : last.statusCode() + " " + last.body())
        + "\nagent log:\n" + Files.readString(agentLog, StandardCharsets.UTF_8));
  }

  @Test
  public void agentWithAnIdTokenFromTheMetadataServerServesItsBackend() throws Exception {
    startAgent("--credentials", "id-token", "--audience", AUDIENCE);
    HttpResponse<String> r = aliceGetsWithin(Duration.ofSeconds(90));
    assertEquals("hello from the backend at /lab", r.body());
  }

  @Test
  public void agentWithAnIdTokenForAnotherAudienceIsRefused() throws Exception {
    startAgent("--credentials", "id-token", "--audience", "https://elsewhere.example.com");
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!Files.readString(agentLog, StandardCharsets.UTF_8).contains("401") && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    String log = Files.readString(agentLog, StandardCharsets.UTF_8);
    assertTrue(log, log.contains("401"));
    assertTrue(server.registry().lastSeen("notebook").isEmpty());
  }
}
