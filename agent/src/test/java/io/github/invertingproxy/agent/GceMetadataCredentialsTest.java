package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.invertingproxy.agent.AgentMain;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The command line on a "GCE VM": its own JVM whose environment names a fake metadata server in
 * {@code GCE_METADATA_HOST}, as google-auth-library reads it, with no gcloud and no credential files.
 */
public class GceMetadataCredentialsTest {
  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private FakeGoogle google;
  private ScriptedProxy proxy;
  private Process agent;
  private Path output;

  @Before
  public void startPeers() throws Exception {
    google = new FakeGoogle();
    proxy = ScriptedProxy.start();
    output = temp.newFile("agent.log").toPath();
  }

  @After
  public void stopAll() {
    if (agent != null) {
      agent.destroyForcibly();
    }
    proxy.close();
    google.close();
  }

  private void startAgent(String... extraArgs) throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        AgentMain.class.getName(), "--proxy", proxy.url(), "--backend", "b", "--host", "127.0.0.1:9"));
    command.addAll(List.of(extraArgs));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
    Map<String, String> env = builder.environment();
    String empty = temp.newFolder().toString();
    env.keySet().removeIf(k -> k.startsWith("GOOGLE_") || k.startsWith("CLOUDSDK_") || k.equals("NO_GCE_CHECK"));
    env.put("PATH", empty);
    env.put("HOME", empty);
    env.put("GCE_METADATA_HOST", google.host());
    agent = builder.start();
  }

  private String log() throws Exception {
    return Files.readString(output, StandardCharsets.UTF_8);
  }

  private void stopAndExpectStatus0() throws Exception {
    agent.destroy();
    assertTrue("agent did not stop", agent.waitFor(15, TimeUnit.SECONDS));
    assertEquals(log(), 0, agent.exitValue());
  }

  @Test
  public void onGceTheDefaultCredentialsAreTheMetadataServersWithTheVmIdentity() throws Exception {
    startAgent();
    proxy.awaitPolls(1, Duration.ofSeconds(20));

    ScriptedProxy.Call first = proxy.calls().get(0);
    assertEquals("Bearer metadata-token-1", first.authorization());
    assertEquals("vm-identity-1-for-" + proxy.url(), first.vmId());
    assertTrue(log(), log().contains("credentials google from GCE metadata server (http://" + google.host()
        + "), service account " + FakeGoogle.VM_SERVICE_ACCOUNT + ", with X-Inverting-Proxy-VM-ID, proxy timeout"));
    assertEquals(log(), 1, log().lines().filter(l -> l.contains(" INFO ")).count());
    assertFalse(log(), log().contains("metadata-token-1") || log().contains("vm-identity-1"));
    stopAndExpectStatus0();
  }

  @Test
  public void anIdTokenComesFromTheMetadataServerForTheAudience() throws Exception {
    startAgent("--credentials", "id-token", "--audience", "https://iap.example.com", "--disable-gce-vm-header");
    proxy.awaitPolls(1, Duration.ofSeconds(20));

    ScriptedProxy.Call first = proxy.calls().get(0);
    String jwt = first.authorization().substring("Bearer ".length());
    JsonNode claims = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
    assertEquals("https://iap.example.com", claims.get("aud").asText());
    assertEquals(FakeGoogle.VM_SERVICE_ACCOUNT, claims.get("email").asText());
    assertEquals(null, first.vmId());
    assertEquals(0, google.vmIdentitiesIssued());
    stopAndExpectStatus0();
  }
}
