package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.ResponseHead;
import io.github.invertingproxy.server.StandaloneServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * With {@code --auth tokens}, the token that authenticated an end user belongs to the proxy: it never
 * reaches the agent or the backend, and protocol headers an agent adds never reach the client.
 */
public class ProxyCredentialsStayTest {
  private static final String USER_TOKEN = "alice-user-token-0123456789";
  private static final String AGENT_TOKEN = "agent-token-0123456789abc";

  @Rule
  public final TemporaryFolder dir = new TemporaryFolder();

  private StandaloneServer server;
  private ForwardingAgent agent;
  private RecordingBackend backend;

  @Before
  public void start() throws Exception {
    Path tokens = dir.getRoot().toPath().resolve("tokens");
    Files.writeString(tokens, USER_TOKEN + " user alice@example.com\n" + AGENT_TOKEN + " agent agent@example.com\n");
    Path agentToken = dir.getRoot().toPath().resolve("agent-token");
    Files.writeString(agentToken, AGENT_TOKEN);
    server = StandaloneServer.builder().port(0).tokensFile(tokens).settings(ProxySettings.builder()
        .pendingTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(20)).build()).build().start();
    server.registry().add(BackendRecord.builder().id("b").endUser("alice@example.com").backendUser("agent@example.com")
        .pathPrefixes("/").build());
    backend = new RecordingBackend((r, body, out) -> out.write(("HTTP/1.1 200 OK\r\n"
        + "X-Inverting-Proxy-Request-ID: forged\r\nX-Inverting-Proxy-Agent-Note: hi\r\nX-Kept: yes\r\n"
        + "Content-Length: 2\r\n\r\nok").getBytes(ISO_8859_1)));
    agent = ForwardingAgent.builder().proxyUrl(server.url()).backendId("b").target(backend.hostAndPort())
        .credentials(ProxyCredentials.tokenFile(agentToken)).proxyTimeout(Duration.ofSeconds(30)).build();
    Instant started = Instant.now().minusMillis(5);
    agent.start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (server.registry().lastSeen("b").filter(t -> t.isAfter(started)).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the agent did not poll within 10 s");
      }
      Thread.sleep(10);
    }
  }

  @After
  public void stop() throws Exception {
    agent.close();
    server.close();
    backend.close();
  }

  @Test
  public void theUsersBearerTokenNeverReachesTheBackend() throws Exception {
    try (RawClient client = new RawClient(server.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /page HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          + USER_TOKEN + "\r\nCookie: app=1\r\nX-Other: kept\r\n\r\n").response("GET");
      assertEquals(200, response.head().status());
      response.body().readAllBytes();
    }
    RecordingBackend.Received got = backend.next();
    assertTrue("the proxy's token reached the backend: " + got.head().headers(),
        got.head().headers().all("Authorization").isEmpty());
    assertEquals("app=1", got.head().headers().first("Cookie").orElseThrow());
    assertEquals("kept", got.head().headers().first("X-Other").orElseThrow());
  }

  @Test
  public void protocolHeadersFromTheAgentNeverReachTheClient() throws Exception {
    try (RawClient client = new RawClient(server.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /page HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          + USER_TOKEN + "\r\n\r\n").response("GET");
      assertEquals(200, response.head().status());
      for (HeaderField f : response.head().headers()) {
        assertFalse("the client got " + f, f.name().toLowerCase().startsWith("x-inverting-proxy-"));
      }
      assertEquals("yes", response.head().headers().first("X-Kept").orElseThrow());
    }
  }
}
