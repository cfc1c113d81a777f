package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.BufferBudget;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The steps of an exchange, as an observer of a real server sees them, for each way an exchange can go. */
public class ExchangeObserverTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private final RecordingObserver observer = new RecordingObserver();
  private AliceApp app;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().observer(observer)
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(1)).pendingTimeout(Duration.ofSeconds(1)).build()));
  }

  @After
  public void stop() throws Exception {
    app.close();
  }

  /**
   * The steps with "taken" moved after "queued" when it came first: an agent may take a request
   * the moment it is queued, before the servlet reports the queueing.
   */
  private static List<String> takenAfterQueued(List<String> steps) {
    List<String> ordered = new ArrayList<>(steps);
    int taken = indexStartingWith(ordered, "taken ");
    int queued = indexStartingWith(ordered, "queued ");
    if (taken >= 0 && queued >= 0 && taken < queued) {
      ordered.add(queued, ordered.remove(taken));
    }
    return ordered;
  }

  private static int indexStartingWith(List<String> steps, String prefix) {
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i).startsWith(prefix)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  public void aServedExchangeIsReceivedRoutedQueuedTakenBegunAndFinished() throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(app.to("hello").POST(HttpRequest.BodyPublishers.ofString("abc")));
    String id = app.agent.pendingWithin(5).get(0);
    assertEquals(200, app.agent.take(id).statusCode());
    app.agent.respond(id, AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
    assertEquals("hello", client.get(10, TimeUnit.SECONDS).body());

    assertEquals(List.of("received POST /hello", "routed LIVE user=alice@example.com backend=alice-app",
        "queued " + id, "taken " + id + " backend=alice-app", "begun 200", "finished 200 in=3 out=5"),
        takenAfterQueued(observer.stepsOnceFinished(1)));
    List<String> calls = observer.agentCallsOnce("response alice-app 200");
    assertTrue(calls.toString(), calls.contains("request alice-app 200"));
    assertTrue(calls.toString(), calls.contains("pending alice-app 200"));
  }

  @Test
  public void aPathWithNoBackendFailsAsNoRouteWith404() throws Exception {
    HttpResponse<String> r = app.client(app.to("nowhere").header("Authorization", "Bearer " + TestTokens.BOB))
        .get(10, TimeUnit.SECONDS);
    assertEquals(404, r.statusCode());
    assertEquals(List.of("received GET /nowhere", "routed NO_MATCH user=bob@example.com backend=null",
        "failed NO_ROUTE 404", "finished 404 in=0 out=0"), observer.stepsOnceFinished(1));
  }

  @Test
  public void aBackendWhoseAgentIsNotPollingFailsAsNotLiveWith503() throws Exception {
    app.server.registry().add(BackendRecord.builder().id("idle-app").endUser("alice@example.com")
        .backendUser("agent@example.com").pathPrefixes("/idle/").build());
    assertEquals(503, app.client(app.to("idle/x")).get(10, TimeUnit.SECONDS).statusCode());
    assertEquals(List.of("received GET /idle/x", "routed NOT_LIVE user=alice@example.com backend=idle-app",
        "failed NOT_LIVE 503", "finished 503 in=0 out=0"), observer.stepsOnceFinished(1));
  }

  @Test
  public void anAgentThatTakesTheRequestButNeverAnswersTimesOutWith504() throws Exception {
    CompletableFuture<HttpResponse<String>> client = app.client(app.to("slow"));
    String id = app.agent.pendingWithin(5).get(0);
    app.agent.take(id);
    assertEquals(504, client.get(10, TimeUnit.SECONDS).statusCode());
    assertEquals(List.of("received GET /slow", "routed LIVE user=alice@example.com backend=alice-app",
        "queued " + id, "taken " + id + " backend=alice-app", "failed TIMEOUT 504", "finished 504 in=0 out=0"),
        takenAfterQueued(observer.stepsOnceFinished(1)));
  }

  @Test
  public void aClientThatGoesAwayBeforeItsResponseIsWrittenFailsAsClientGone() throws Exception {
    try (Socket client = new Socket("127.0.0.1", app.server.port())) {
      OutputStream out = client.getOutputStream();
      out.write(("GET /big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestTokens.ALICE + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String id = app.agent.pendingWithin(5).get(0);
      app.agent.take(id);
      client.setSoLinger(true, 0); // a reset: the proxy's next write fails at once
      client.close();
      int size = 8 << 20;
      byte[] head = AliceApp.wire("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n");
      byte[] response = new byte[head.length + size];
      System.arraycopy(head, 0, response, 0, head.length);
      app.agent.respond(id, response);
      List<String> steps = takenAfterQueued(observer.stepsOnceFinished(1));
      assertEquals(steps.toString(), List.of("received GET /big", "routed LIVE user=alice@example.com backend=alice-app",
          "queued " + id, "taken " + id + " backend=alice-app", "begun 200", "failed CLIENT_GONE 0"),
          steps.subList(0, 6));
      assertTrue(steps.toString(), steps.get(6).startsWith("finished 0 in=0 out="));
    }
  }

  @Test
  public void aRequestSentOverAnAgentsChannelIsReportedTaken() throws Exception {
    BlockingQueue<String> pongs = new LinkedBlockingQueue<>();
    BlockingQueue<Integer> frames = new LinkedBlockingQueue<>();
    WebSocket channel = HttpClient.newHttpClient().newWebSocketBuilder()
        .header(ProtocolHeaders.BACKEND_ID, "alice-app").header("Authorization", "Bearer " + TestTokens.AGENT)
        .buildAsync(URI.create(app.server.url().replace("http:", "ws:") + "agent/channel"), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            pongs.add(StandardCharsets.UTF_8.decode(message).toString());
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            frames.add(data.remaining());
            ws.request(1);
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    try {
      // A pong comes after the server opened its side, and so after the channel was attached.
      channel.sendPing(ByteBuffer.wrap("attached".getBytes(StandardCharsets.UTF_8))).get(5, TimeUnit.SECONDS);
      assertEquals("attached", pongs.poll(10, TimeUnit.SECONDS));
      CompletableFuture<HttpResponse<String>> client = app.client(app.to("over-channel"));
      assertTrue("no request came over the channel", frames.poll(10, TimeUnit.SECONDS) != null);
      assertEquals(504, client.get(10, TimeUnit.SECONDS).statusCode()); // the channel never answers
      List<String> steps = takenAfterQueued(observer.stepsOnceFinished(1));
      String id = steps.get(2).substring("queued ".length());
      assertEquals(List.of("received GET /over-channel", "routed LIVE user=alice@example.com backend=alice-app",
          "queued " + id, "taken " + id + " backend=alice-app", "failed TIMEOUT 504", "finished 504 in=0 out=0"), steps);
    } finally {
      channel.abort();
    }
  }

  @Test
  public void aBodyRefusedForWantOfBufferMemoryFailsAsOverloadedWith503() throws Exception {
    app.close();
    app = AliceApp.start(tmp.newFolder().toPath(), StandaloneServer.builder().observer(observer)
        .settings(ProxySettings.builder().bufferBudget(new BufferBudget(0)).build()));
    HttpResponse<String> r = app.client(app.to("upload").POST(HttpRequest.BodyPublishers.ofString("abc")))
        .get(10, TimeUnit.SECONDS);
    assertEquals(503, r.statusCode());
    assertEquals(List.of("received POST /upload", "routed LIVE user=alice@example.com backend=alice-app",
        "failed OVERLOADED 503", "finished 503 in=3 out=0"), observer.stepsOnceFinished(1));
  }
}
