package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.ResponseHead;
import io.github.invertingproxy.server.StandaloneServer;
import java.time.Duration;
import java.util.Random;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Our agent and the stand-alone server over the channel extension (docs/protocol.md), with a real backend. */
public class AgentChannelTest {
  @Rule public final TemporaryFolder folder = new TemporaryFolder();
  private RecordingBackend backend;
  private StandaloneServer server;
  private ForwardingAgent agent;

  @Before
  public void start() throws Exception {
    // Echoes the request body, and answers /big with 1 MiB.
    backend = new RecordingBackend((r, body, out) -> {
      byte[] content = r.head().target().equals("/big") ? new byte[1024 * 1024] : r.body();
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + content.length + "\r\nX-Path: " + r.head().target()
          + "\r\n\r\n").getBytes(ISO_8859_1));
      out.write(content);
    });
  }

  @After
  public void stop() throws Exception {
    if (agent != null) {
      agent.close();
    }
    if (server != null) {
      server.close();
    }
    backend.close();
  }

  private void startServer(boolean channels) throws Exception {
    server = StandaloneServer.builder().port(0).channels(channels)
        .settings(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(2)).responseTimeout(Duration.ofSeconds(20)).build())
        .build().start();
    server.registry().add(BackendRecord.builder().id("b").endUser("allUsers").backendUser("agent@example.com")
        .pathPrefixes("/").build());
  }

  private void startAgent(boolean channel) throws Exception {
    agent = ForwardingAgent.builder().proxyUrl(server.url()).backendId("b").target(backend.hostAndPort())
        .credentials(ProxyCredentials.none()).proxyTimeout(Duration.ofSeconds(30)).channel(channel).build();
    agent.start();
    Await.until(() -> server.registry().lastSeen("b").isPresent(), "the agent's first poll");
  }

  /** POSTs {@code body} to {@code path} on a new connection and returns the response's body. */
  private byte[] post(String path, byte[] body) throws Exception {
    try (RawClient client = new RawClient(server.port())) {
      client.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n").send(body);
      IncomingMessage<ResponseHead> response = client.response("POST");
      assertEquals(200, response.head().status());
      assertEquals(path, response.head().headers().first("X-Path").orElse(""));
      return response.body().readAllBytes();
    }
  }

  @Test
  public void theAgentOpensAChannelAndSmallRequestsTravelOverIt() throws Exception {
    startServer(true);
    startAgent(true);
    Await.until(() -> server.exchanges().channelCount("b") == 1, "the agent's channel");
    long before = server.exchanges().sentOverChannels();
    Random random = new Random(1);
    for (int i = 0; i < 20; i++) {
      byte[] body = new byte[random.nextInt(2000)];
      random.nextBytes(body);
      assertArrayEquals(body, post("/small/" + i, body));
    }
    assertEquals(20, server.exchanges().sentOverChannels() - before);
    Await.until(() -> server.exchanges().size() == 0, "every exchange to finish");
  }

  @Test
  public void largeBodiesStillTakeTheThreeCalls() throws Exception {
    startServer(true);
    startAgent(true);
    Await.until(() -> server.exchanges().channelCount("b") == 1, "the agent's channel");
    long before = server.exchanges().sentOverChannels();
    byte[] upload = new byte[200_000];
    new Random(2).nextBytes(upload);
    assertArrayEquals(upload, post("/upload", upload));
    assertEquals("a request body over 64 KiB waits for a poll", before, server.exchanges().sentOverChannels());

    // A small request whose response is large: the request comes over the channel, the response by agent/response.
    byte[] big = post("/big", new byte[0]);
    assertEquals(1024 * 1024, big.length);
    assertEquals(before + 1, server.exchanges().sentOverChannels());
    Await.until(() -> server.exchanges().size() == 0, "every exchange to finish");
  }

  @Test
  public void anAgentWithTheChannelOffOpensNoneAndStillServes() throws Exception {
    startServer(true);
    startAgent(false);
    assertArrayEquals("hi".getBytes(ISO_8859_1), post("/x", "hi".getBytes(ISO_8859_1)));
    Thread.sleep(200);
    assertEquals(0, server.webSockets().channelCount());
    assertEquals(0, server.exchanges().sentOverChannels());
  }

  @Test
  public void aServerWithChannelsOffIsServedWithTheThreeCalls() throws Exception {
    startServer(false);
    startAgent(true);
    assertArrayEquals("hi".getBytes(ISO_8859_1), post("/x", "hi".getBytes(ISO_8859_1)));
    assertEquals(0, server.webSockets().channelCount());
    assertEquals(0, server.exchanges().sentOverChannels());
  }

  @Test
  public void closingTheAgentClosesItsChannelAndANewAgentTakesOver() throws Exception {
    startServer(true);
    startAgent(true);
    Await.until(() -> server.exchanges().channelCount("b") == 1, "the agent's channel");
    assertTrue(post("/before", new byte[] {1}).length == 1);
    agent.close();
    Await.until(() -> server.webSockets().channelCount() == 0, "the channel to close");
    assertEquals(0, server.exchanges().channelCount("b"));
    // A new agent serves what comes next, through its own channel.
    startAgent(true);
    assertArrayEquals(new byte[] {2}, post("/after", new byte[] {2}));
  }

  @Test
  public void theChannelWorksAsWssBehindATlsTerminator() throws Exception {
    startServer(true);
    try (TlsFront front = TlsFront.start(server.port(), folder.getRoot().toPath())) {
      // The agent knows the proxy only by its https:// address, so the channel it opens is wss://.
      agent = ForwardingAgent.builder().proxyUrl(front.url()).backendId("b").target(backend.hostAndPort())
          .credentials(ProxyCredentials.none()).proxyTimeout(Duration.ofSeconds(30)).disableSslForTest(true)
          .channel(true).build();
      agent.start();
      Await.until(() -> server.exchanges().channelCount("b") == 1, "the agent's channel through the TLS front");
      long before = server.exchanges().sentOverChannels();
      byte[] body = new byte[3000];
      new Random(3).nextBytes(body);

      assertArrayEquals(body, post("/over-tls", body));
      assertEquals(before + 1, server.exchanges().sentOverChannels());
      // A large response leaves the channel for agent/response, through the same front.
      assertEquals(1024 * 1024, post("/big", new byte[0]).length);
      assertTrue("polls, calls and the channel all came through the front", front.accepted() >= 2);

      agent.close();
      agent = null;
      Await.until(() -> server.webSockets().channelCount() == 0, "the channel to close");
    }
  }
}
