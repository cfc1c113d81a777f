package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.commandline.Flags;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/**
 * agent/Dockerfile without a Docker engine: every variable it sets is one the agent reads, its values
 * are the flags' defaults, and the original image's {@code docker run} lines configure the agent.
 */
public class DockerfileTest {
  private static final Path DOCKERFILE = Path.of("Dockerfile");
  /** The variables the original agent's image and its users set. */
  private static final List<String> ORIGINAL = List.of("PROXY", "BACKEND", "PORT", "HOSTNAME", "PROXY_TIMEOUT",
      "DEBUG", "SHIM_WEBSOCKETS", "SHIM_PATH", "HEALTH_CHECK_PATH", "HEALTH_CHECK_INTERVAL_SECONDS",
      "HEALTH_CHECK_UNHEALTHY_THRESHOLD", "SESSION_COOKIE_NAME", "FORWARD_USER_ID", "REWRITE_WEBSOCKET_HOST",
      "MONITORING_PROJECT_ID", "MONITORING_RESOURCE_LABELS", "METRIC_DOMAIN");
  /** The original image's values, where it sets one; HOSTNAME and PORT are checked through --host. */
  private static final Map<String, String> ORIGINAL_VALUES = Map.ofEntries(Map.entry("DEBUG", "false"),
      Map.entry("PROXY", ""), Map.entry("PROXY_TIMEOUT", "60s"), Map.entry("BACKEND", ""),
      Map.entry("HOSTNAME", "localhost"), Map.entry("PORT", "8080"), Map.entry("SHIM_WEBSOCKETS", "false"),
      Map.entry("SHIM_PATH", ""), Map.entry("HEALTH_CHECK_PATH", "/"), Map.entry("HEALTH_CHECK_INTERVAL_SECONDS", "0"),
      Map.entry("HEALTH_CHECK_UNHEALTHY_THRESHOLD", "2"), Map.entry("SESSION_COOKIE_NAME", ""),
      Map.entry("FORWARD_USER_ID", "false"), Map.entry("REWRITE_WEBSOCKET_HOST", "false"),
      Map.entry("MONITORING_PROJECT_ID", ""), Map.entry("MONITORING_RESOURCE_LABELS", ""),
      Map.entry("METRIC_DOMAIN", ""));
  private static final Pattern ENV_LINE = Pattern.compile("^ENV\\s+([A-Z_][A-Z0-9_]*)(?:=|\\s+)\"?([^\"]*)\"?\\s*$");

  private static Map<String, String> imageEnvironment() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(DOCKERFILE, StandardCharsets.UTF_8)) {
      Matcher m = ENV_LINE.matcher(line.trim());
      if (m.matches()) {
        env.put(m.group(1), m.group(2));
      } else {
        assertFalse("an ENV line the test cannot read: " + line, line.trim().startsWith("ENV"));
      }
    }
    return env;
  }

  private static String help() {
    try {
      AgentOptions.parse(new String[] {"--help"}, Map.of());
      throw new AssertionError("--help did not print the help");
    } catch (Flags.UsageException e) {
      return e.getMessage();
    }
  }

  @Test
  public void theImageSetsEveryVariableOfTheOriginalImage() throws IOException {
    assertTrue(imageEnvironment().keySet().containsAll(ORIGINAL));
  }

  @Test
  public void theImageSetsTheOriginalImagesValues() throws IOException {
    Map<String, String> image = imageEnvironment();
    ORIGINAL_VALUES.forEach((variable, value) -> assertEquals(variable, value, image.get(variable)));
  }

  @Test
  public void theImagesDefaultsLogNoIgnoredFlagButAMetricsValueDoes() throws Exception {
    Map<String, String> env = new HashMap<>(imageEnvironment());
    env.put("PROXY", "https://proxy.example.com/");
    env.put("BACKEND", "b");
    env.put("PROXY_CREDENTIALS", "none");
    try (LogCapture log = LogCapture.start()) {
      AgentOptions.parse(new String[0], env).toAgent();
      assertEquals(List.of(), log.messagesContaining("ignored"));
    }
    env.put("METRIC_DOMAIN", "notebooks.googleapis.com");
    try (LogCapture log = LogCapture.start()) {
      AgentOptions.parse(new String[0], env).toAgent();
      assertEquals(List.of("--metric-domain is accepted for compatibility with the original agent and ignored"),
          log.messagesContaining("ignored"));
    }
  }

  @Test
  public void everyVariableTheImageSetsIsReadByTheAgent() throws IOException {
    String help = help();
    for (String variable : imageEnvironment().keySet()) {
      boolean flagFallback = help.contains("[env " + variable + "]");
      // PORT and HOSTNAME name the backend together, as the original's --host=${HOSTNAME}:${PORT}.
      boolean hostParts = (variable.equals("PORT") || variable.equals("HOSTNAME"))
          && help.contains("[env PORT: localhost:$PORT, or $HOSTNAME:$PORT when HOSTNAME is set too]");
      assertTrue(variable + " is read by no flag", flagFallback || hostParts);
    }
  }

  @Test
  public void theImagesValuesAreTheFlagsDefaults() throws Exception {
    Map<String, String> env = new HashMap<>(imageEnvironment());
    env.put("PROXY", "https://proxy.example.com/");
    env.put("BACKEND", "b");

    AgentOptions fromImage = AgentOptions.parse(new String[0], env);
    AgentOptions fromDefaults = AgentOptions.parse(new String[] {"--proxy", "https://proxy.example.com/",
        "--backend", "b"}, Map.of());

    assertEquals(fromDefaults.host(), fromImage.host());
    assertEquals(fromDefaults.proxyTimeout(), fromImage.proxyTimeout());
    assertEquals(fromDefaults.requestForwardingTimeout(), fromImage.requestForwardingTimeout());
    assertEquals(fromDefaults.forwardUserId(), fromImage.forwardUserId());
    assertEquals(fromDefaults.debug(), fromImage.debug());
    assertEquals(fromDefaults.webSockets(), fromImage.webSockets());
    assertEquals(fromDefaults.credentials().toString(), fromImage.credentials().toString());
  }

  @Test
  public void anOriginalDockerRunLineConfiguresTheAgent() throws Exception {
    Map<String, String> env = new HashMap<>(imageEnvironment());
    // docker run -e PROXY=... -e BACKEND=... -e PORT=8888 -e SHIM_WEBSOCKETS=true -e SHIM_PATH=websocket-shim
    //   -e HEALTH_CHECK_INTERVAL_SECONDS=5 -e DEBUG=true -e PROXY_TIMEOUT=30s -e FORWARD_USER_ID=true
    env.putAll(Map.of("PROXY", "https://proxy.example.com/", "BACKEND", "notebook", "PORT", "8888",
        "SHIM_WEBSOCKETS", "true", "SHIM_PATH", "websocket-shim", "HEALTH_CHECK_INTERVAL_SECONDS", "5",
        "DEBUG", "true", "PROXY_TIMEOUT", "30s", "FORWARD_USER_ID", "true"));

    AgentOptions o = AgentOptions.parse(new String[0], env);

    assertEquals("https://proxy.example.com/", o.proxy());
    assertEquals("notebook", o.backend());
    assertEquals("localhost:8888", o.host());
    assertTrue(o.webSockets().injectsShim());
    assertEquals("websocket-shim", o.webSockets().shimPath());
    assertTrue(o.debug());
    assertTrue(o.forwardUserId());
    assertEquals(java.time.Duration.ofSeconds(30), o.proxyTimeout());
  }

  @Test
  public void theImageRunsTheJarTheBuildMakes() throws IOException {
    String dockerfile = Files.readString(DOCKERFILE, StandardCharsets.UTF_8);
    String pom = Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8);

    assertTrue(pom.contains("<outputFile>${project.build.directory}/inverting-proxy-agent.jar</outputFile>"));
    assertTrue(dockerfile.contains("COPY target/inverting-proxy-agent.jar /opt/inverting-proxy-agent.jar"));
    // Out of memory, the container exits (and is restarted) rather than lingering half alive.
    assertTrue(dockerfile.contains("ENTRYPOINT [\"java\", \"-XX:MaxRAMPercentage=75\", \"-XX:+ExitOnOutOfMemoryError\", \"-jar\","
        + " \"/opt/inverting-proxy-agent.jar\"]"));
    assertTrue(Files.readString(Path.of(".dockerignore")).contains("!target/inverting-proxy-agent.jar"));
  }
}
