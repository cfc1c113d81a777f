package io.github.invertingproxy.agent.websocket;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.commandline.Flags;
import java.time.Duration;
import java.util.Map;
import org.junit.Test;

public class WebSocketOptionsTest {
  private static WebSocketOptions parse(Map<String, String> env, String... args) throws Flags.UsageException {
    Flags flags = new Flags("agent", "test", env);
    WebSocketOptions.Definitions d = WebSocketOptions.define(flags);
    flags.parse(args);
    return d.options();
  }

  @Test
  public void theOriginalsShimFlagsAreAccepted() throws Exception {
    WebSocketOptions o = parse(Map.of(), "--shim-websockets", "--shim-path", "/websocket-shim/",
        "--rewrite-websocket-host", "--websocket-shim-timeout", "90s");
    assertTrue(o.injectsShim());
    assertEquals("websocket-shim", o.shimPath());
    assertTrue(o.rewriteHost());
    assertEquals(Duration.ofSeconds(90), o.shimTimeout());
  }

  @Test
  public void theDockerImagesEnvironmentVariablesWork() throws Exception {
    WebSocketOptions o = parse(Map.of("SHIM_WEBSOCKETS", "true", "SHIM_PATH", "shim"));
    assertTrue(o.injectsShim());
    assertEquals("shim", o.shimPath());
  }

  @Test
  public void byDefaultUpgradesAreNativeAndTheShimIsOffWithAnHourTimeout() throws Exception {
    WebSocketOptions o = parse(Map.of());
    assertTrue(o.nativeUpgrades());
    assertFalse(o.servesShim());
    assertEquals(Duration.ofMinutes(60), o.shimTimeout());
  }

  @Test
  public void aShimPathAloneServesTheEndpointsWithoutInjecting() throws Exception {
    WebSocketOptions o = parse(Map.of(), "--shim-path", "shim");
    assertTrue(o.servesShim());
    assertFalse(o.injectsShim());
  }

  @Test
  public void shimmingWithoutAPathIsAUsageError() {
    Flags.UsageException e = assertThrows(Flags.UsageException.class, () -> parse(Map.of(), "--shim-websockets"));
    assertTrue(e.getMessage(), e.getMessage().contains("--shim-path"));
  }

  @Test
  public void theInjectedScriptNamesTheShimPath() {
    String html = ShimScript.html("/my-shim/");
    assertTrue(html.startsWith("<!--START_WEBSOCKET_SHIM--><script>"));
    assertTrue(html.contains("'/' + \"my-shim\" + '/'"));
    assertFalse(html.contains("__SHIM_PATH__"));
  }
}
