package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.StandaloneServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Jupyter Notebook used in headless Chromium through the stand-alone server and our agent's jar,
 * with the kernel's WebSocket carried natively (no shim).
 */
public class JupyterOnStandaloneServerTest {
  private static final Path LOGS = Path.of("target", "jupyter-on-standalone-server");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Map<String, Path> logs = new LinkedHashMap<>();
  private StandaloneServer server;
  private Process agent;
  private JupyterNotebook jupyter;

  @Before
  public void start() throws Exception {
    HeadlessChromium.executable();
    JupyterNotebook.executable();
    Files.createDirectories(LOGS);
    logs.put("Jupyter log", LOGS.resolve("jupyter.log"));
    logs.put("agent log", LOGS.resolve("agent.log"));
  }

  @After
  public void stop() throws Exception {
    if (agent != null) {
      agent.destroy();
      if (!agent.waitFor(10, TimeUnit.SECONDS)) {
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (server != null) {
      server.close();
    }
    if (jupyter != null) {
      jupyter.close();
    }
  }

  @Test
  public void aNotebookCellRunsThroughTheStandaloneServerInChromium() throws Exception {
    jupyter = JupyterNotebook.start(logs.get("Jupyter log"));
    server = StandaloneServer.builder().port(0)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(5)).build()).build().start();
    // The record goes straight into the server's registry: the test is about Jupyter, not the admin API.
    server.registry().add(BackendRecord.builder().id("jupyter").endUser(BackendRecord.ALL_USERS)
        .backendUser("agent@example.com").pathPrefixes("/").build());
    agent = Processes.java("256m", Processes.AGENT_JAR, logs.get("agent log"), "--proxy", server.url(),
        "--backend", "jupyter", "--host", jupyter.hostAndPort(), "--credentials", "none");
    awaitJupyterThroughTheProxy(URI.create(server.url()));

    String output = NotebookInChromium.runPrintSixTimesSeven(server.url(), Map.of(), false, logs);
    assertEquals("42", output);
  }

  /** Waits until Jupyter's REST API answers through the proxy, i.e. the agent has polled. */
  private void awaitJupyterThroughTheProxy(URI proxy) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    HttpResponse<String> r = null;
    while (System.nanoTime() < deadline) {
      r = http.send(HttpRequest.newBuilder(proxy.resolve("api")).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().contains("\"version\"")) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("Jupyter did not answer through the stand-alone server within "
        + START_TIMEOUT.toSeconds() + " s; last: " + (r == null ? "nothing" : r.statusCode() + " " + r.body())
        + "\nagent log: " + Files.readString(logs.get("agent log")));
  }
}
