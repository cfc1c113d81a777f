package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Jupyter Notebook used in headless Chromium through the App Engine flavour: the local runner's
 * jar, our agent's jar with the WebSocket shim (App Engine carries no WebSocket upgrade), and the
 * user signed in with the dev server's cookie.
 */
public class JupyterOnAppEngineTest {
  private static final Path RUNNER_JAR = Path.of("..", "appengine-runner", "target", "inverting-proxy-appengine-runner.jar");
  private static final Path LOGS = Path.of("target", "jupyter-on-appengine");
  private static final String USER = "you@example.com";
  private static final String AGENT_ACCOUNT = "jupyter-agent@example.com";
  private static final String AGENT_TOKEN = "jupyter-agent-token-0123456789";
  private static final String ADMIN_TOKEN = "jupyter-admin-token-0123456789";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Process> processes = new ArrayList<>();
  private final Map<String, Path> logs = new LinkedHashMap<>();
  private JupyterNotebook jupyter;

  @Before
  public void start() throws Exception {
    HeadlessChromium.executable();
    JupyterNotebook.executable();
    Files.createDirectories(LOGS);
    logs.put("Jupyter log", LOGS.resolve("jupyter.log"));
    logs.put("App Engine runner log", LOGS.resolve("runner.log"));
    logs.put("agent log", LOGS.resolve("agent.log"));
  }

  @After
  public void stop() throws Exception {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (jupyter != null) {
      jupyter.close();
    }
  }

  @Test
  public void aNotebookCellRunsThroughTheAppEngineFlavourInChromium() throws Exception {
    jupyter = JupyterNotebook.start(logs.get("Jupyter log"));
    Map<String, URI> runner = startRunner();
    register(runner.get("api"));
    startAgent(runner.get("agent"));
    String user = "dev_appserver_login=" + USER + ":false:1";
    awaitJupyterThroughTheProxy(runner.get("default"), user);

    String output = NotebookInChromium.runPrintSixTimesSeven(runner.get("default").toString(),
        Map.of("dev_appserver_login", USER + ":false:1"), true, logs);
    assertEquals("42", output);
  }

  /** The runner on free ports; the base URLs of services default, agent and api. */
  private Map<String, URI> startRunner() throws Exception {
    if (!Files.exists(RUNNER_JAR)) {
      throw new AssertionError(RUNNER_JAR + " is missing; build the appengine-runner module first");
    }
    Path log = logs.get("App Engine runner log");
    Process p = Processes.java("512m", RUNNER_JAR, log, "--port", "0",
        "--oauth-tokens", AGENT_TOKEN + "=" + AGENT_ACCOUNT + "," + ADMIN_TOKEN + "=admin@example.com:admin");
    processes.add(p);
    Pattern listening = Pattern.compile("App Engine flavour listening on (http://\\S+/)[^\\n]*\\n(?:.*\\n)*?"
        + "Service agent listening on (http://\\S+/)[^\\n]*\\nService api listening on (http://\\S+/)");
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("the App Engine runner exited: " + Files.readString(log));
      }
      Matcher m = listening.matcher(Files.readString(log));
      if (m.find()) {
        return Map.of("default", URI.create(m.group(1)), "agent", URI.create(m.group(2)),
            "api", URI.create(m.group(3)));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the App Engine runner did not start within " + START_TIMEOUT.toSeconds() + " s: "
        + Files.readString(log));
  }

  /** The record for Jupyter at {@code /}, through the admin API as an administrator. */
  private void register(URI api) throws Exception {
    String record = "{\"id\":\"jupyter\",\"endUser\":\"" + USER + "\",\"backendUser\":\"" + AGENT_ACCOUNT
        + "\",\"pathPrefixes\":[\"/\"]}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(api.resolve("api/backends"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(record)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals("registering the backend: " + r.body(), 200, r.statusCode());
  }

  private void startAgent(URI agentService) throws Exception {
    Path token = LOGS.resolve("agent-token");
    Files.writeString(token, AGENT_TOKEN);
    processes.add(Processes.java("256m", Processes.AGENT_JAR, logs.get("agent log"),
        "--proxy", agentService.toString(), "--backend", "jupyter", "--host", jupyter.hostAndPort(),
        "--credentials", "token-file:" + token, "--shim-websockets", "--shim-path", "websocket-shim"));
  }

  /** Waits until Jupyter's REST API answers through the proxy, i.e. the agent has polled. */
  private void awaitJupyterThroughTheProxy(URI proxy, String cookie) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    HttpResponse<String> r = null;
    while (System.nanoTime() < deadline) {
      r = http.send(HttpRequest.newBuilder(proxy.resolve("api")).header("Cookie", cookie)
          .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().contains("\"version\"")) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("Jupyter did not answer through the App Engine flavour within "
        + START_TIMEOUT.toSeconds() + " s; last: " + (r == null ? "nothing" : r.statusCode() + " " + r.body())
        + "\nagent log: " + Files.readString(logs.get("agent log")));
  }
}
