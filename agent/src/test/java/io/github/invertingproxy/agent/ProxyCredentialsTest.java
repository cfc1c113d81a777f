package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ProxyCredentialsTest {
  @Rule public TemporaryFolder folder = new TemporaryFolder();

  @Rule public final AgentPeers peers = new AgentPeers();

  private ScriptedProxy proxy;
  private RawBackend backend;

  @Before
  public void startPeers() {
    proxy = peers.proxy;
    backend = peers.backend;
  }

  @Test
  public void noneSendsNoAuthorizationHeader() throws IOException {
    assertEquals(Optional.empty(), ProxyCredentials.none().authorizationHeader());
  }

  @Test
  public void aTokenFileGivesABearerTokenWithoutSurroundingWhiteSpace() throws IOException {
    Path file = folder.newFile("token").toPath();
    Files.writeString(file, "  ya29.token-value\n");

    assertEquals(Optional.of("Bearer ya29.token-value"), ProxyCredentials.tokenFile(file).authorizationHeader());
  }

  @Test
  public void aTokenFileIsReadAgainWhenItChanges() throws IOException {
    Path file = folder.newFile("token").toPath();
    Files.writeString(file, "first");
    ProxyCredentials credentials = ProxyCredentials.tokenFile(file);
    assertEquals(Optional.of("Bearer first"), credentials.authorizationHeader());

    Files.writeString(file, "second-token");
    // Same second as the first write on a coarse file system: the size still tells the change.
    assertEquals(Optional.of("Bearer second-token"), credentials.authorizationHeader());
    Files.writeString(file, "third-token!");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    assertEquals(Optional.of("Bearer third-token!"), credentials.authorizationHeader());
  }

  @Test
  public void anEmptyTokenFileIsAnError() throws IOException {
    Path file = folder.newFile("token").toPath();
    Files.writeString(file, "\n");

    IOException e = assertThrows(IOException.class, () -> ProxyCredentials.tokenFile(file).authorizationHeader());
    assertEquals("token file " + file + " is empty", e.getMessage());
  }

  @Test
  public void aMissingTokenFileIsAnErrorThatNamesIt() {
    Path file = folder.getRoot().toPath().resolve("absent");

    IOException e = assertThrows(IOException.class, () -> ProxyCredentials.tokenFile(file).authorizationHeader());
    assertEquals("token file " + file + " does not exist", e.getMessage());
  }

  @Test
  public void everyProxyCallCarriesTheTokenFromTheFile() throws Exception {
    Path file = folder.newFile("token").toPath();
    Files.writeString(file, "secret-1\n", StandardCharsets.UTF_8);
    peers.start(b -> b.credentials(ProxyCredentials.tokenFile(file)));
    proxy.enqueue("r1", ForwardingAgentTest.bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    proxy.awaitResponse("r1", Duration.ofSeconds(5));

    List<ScriptedProxy.Call> calls = proxy.calls();
    assertTrue(calls.stream().anyMatch(c -> c.path().endsWith("agent/request")));
    assertTrue(calls.stream().anyMatch(c -> c.path().endsWith("agent/response")));
    for (ScriptedProxy.Call call : calls) {
      assertEquals(call.toString(), "Bearer secret-1", call.authorization());
    }
    assertFalse(backend.awaitRequest(Duration.ofSeconds(1)).head().headers().contains("Authorization"));
  }
}
