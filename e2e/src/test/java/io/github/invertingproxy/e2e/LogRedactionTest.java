package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.ResponseHead;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The server and agent jars at {@code --debug} log every detail of an exchange, and not one of the
 * credentials that travel in it: users' and agents' bearer tokens, the administrator's, cookies.
 */
public class LogRedactionTest {
  private static final String USER_TOKEN = "SECRETTOKEN123456";
  private static final String AGENT_TOKEN = "AGENTSECRET0123456789";
  private static final String ADMIN_TOKEN = "ADMINSECRET0123456789";
  private static final String COOKIE = "COOKIESECRET99";
  private static final List<String> SECRETS = List.of(USER_TOKEN, AGENT_TOKEN, ADMIN_TOKEN, COOKIE);

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private RecordingBackend backend;
  private Path serverLog;
  private Path agentLog;
  private int port;

  @Before
  public void start() throws Exception {
    backend = new RecordingBackend((r, body, out) -> out.write(
        ("HTTP/1.1 200 OK\r\nSet-Cookie: back=" + COOKIE + "\r\nContent-Length: 2\r\n\r\nok").getBytes(ISO_8859_1)));
    Path dir = tmp.getRoot().toPath();
    Path tokens = Files.writeString(dir.resolve("tokens"), ADMIN_TOKEN + " admin\n" + AGENT_TOKEN
        + " agent agent@example.com\n" + USER_TOKEN + " user alice@example.com\n");
    Path agentToken = Files.writeString(dir.resolve("agent-token"), AGENT_TOKEN);
    serverLog = dir.resolve("server.log");
    agentLog = dir.resolve("agent.log");
    String url = Processes.startServer("128m", serverLog, "--debug", "--auth", "tokens", "--tokens-file", tokens.toString());
    port = URI.create(url).getPort();
    int status = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        Processes.SERVER_JAR.toString(), "backends", "add", "--api", Processes.adminUrl(serverLog), "--token", ADMIN_TOKEN, "--id", "b",
        "--end-user", "alice@example.com", "--backend-user", "agent@example.com", "--path-prefixes", "/")
        .inheritIO().start().waitFor();
    assertEquals("backends add exit status", 0, status);
    Processes.startAgent("128m", agentLog, "--proxy", url, "--backend", "b", "--host", backend.hostAndPort(),
        "--credentials", "token-file:" + agentToken, "--debug");
  }

  @After
  public void stop() throws Exception {
    Processes.killAll();
    backend.close();
  }

  private int get(String path) throws Exception {
    try (RawClient client = new RawClient(port)) {
      IncomingMessage<ResponseHead> response = client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
          + USER_TOKEN + "\r\nCookie: sess=" + COOKIE + "\r\n\r\n").response("GET");
      response.body().readAllBytes();
      return response.head().status();
    }
  }

  private static void awaitLogged(Path log, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.readString(log).contains(text)) {
      assertTrue(log.getFileName() + " never logged " + text + ": " + Files.readString(log), System.nanoTime() < deadline);
      Thread.sleep(100);
    }
  }

  @Test(timeout = 90_000)
  public void debugLogsOfServerAndAgentHoldNoCredential() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (get("/warm-up") != 200) {
      assertTrue("the agent did not connect within 30 s", System.nanoTime() < deadline);
      Thread.sleep(100);
    }
    assertEquals(200, get("/secret-path"));
    awaitLogged(serverLog, "/secret-path");
    awaitLogged(agentLog, "/secret-path");

    for (Path log : List.of(serverLog, agentLog)) {
      String text = Files.readString(log);
      assertTrue(log.getFileName() + " logs at debug level", text.contains(" FINE "));
      for (String secret : SECRETS) {
        assertFalse(log.getFileName() + " holds " + secret + ":\n" + text, text.contains(secret));
      }
    }
    assertTrue("the server's debug log shows the redacted header", Files.readString(serverLog)
        .contains("Authorization: [redacted]"));
  }
}
