package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.websocket.RelayLimits;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The original agent's WebSocket shim through the stand-alone proxy, spoken the way its page script
 * speaks it: open, data, poll and close with JSON bodies and the version header.
 */
public class WebSocketShimTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private WebSocketBackend backend;
  private WebSocketStack stack;

  @Before
  public void start() throws Exception {
    backend = new WebSocketBackend();
    stack = new WebSocketStack(RelayLimits.DEFAULT);
    stack.agent("ws", backend.hostAndPort(),
        WebSocketOptions.defaults().withShim("/websocket-shim/").withShimTimeout(Duration.ofSeconds(2)));
  }

  @After
  public void stop() throws Exception {
    stack.close();
    backend.close();
  }

  private HttpResponse<String> call(String endpoint, String body, String version, String protocols) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port() + "/websocket-shim/"
        + endpoint)).POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(40));
    if (version != null) {
      b.header("X-Websocket-Shim-Version", version);
    }
    if (protocols != null) {
      b.header("X-Websocket-Shim-Protocols", protocols);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  public void openDataPollAndCloseCarryTextAndBase64BinaryInVersion1() throws Exception {
    HttpResponse<String> open = call("open", "ws://127.0.0.1:" + stack.port() + "/echo?x=1", "1", "chat.v1");
    assertEquals(200, open.statusCode());
    JsonNode session = JSON.readTree(open.body());
    String id = session.get("id").asText();
    assertEquals(1, session.get("v").asInt());
    assertEquals("chat.v1", session.get("s").asText());
    assertEquals("ws://" + backend.hostAndPort() + "/echo?x=1", session.get("msg").asText());
    assertEquals("127.0.0.1:" + backend.port(), WebSocketBackend.field(backend.handshakes.take(), "Host"));

    HttpResponse<String> data = call("data", "[{\"id\":\"" + id + "\",\"msg\":\"hi\"},{\"id\":\"" + id
        + "\",\"msg\":[\"AAEC/w==\"]}]", "1", null);
    assertEquals(200, data.statusCode());
    assertEquals("ok", data.body());
    assertEquals("hi", backend.frames.take().text());
    assertEquals("[0, 1, 2, -1]", java.util.Arrays.toString(backend.frames.take().payload()));

    StringBuilder got = new StringBuilder();
    while (got.length() == 0 || !got.toString().contains("AAEC")) {
      HttpResponse<String> poll = call("poll", "{\"id\":\"" + id + "\"}", "1", null);
      assertEquals(200, poll.statusCode());
      got.append(poll.body());
    }
    assertTrue(got.toString(), got.toString().replace("][", ",").equals("[\"hi\",[\"AAEC/w==\"]]"));

    assertEquals(200, call("close", "{\"id\":\"" + id + "\"}", "1", null).statusCode());
    assertEquals(CloseStatus.NORMAL, backend.closes.poll(10, TimeUnit.SECONDS).getCode());
    assertEquals(400, call("poll", "{\"id\":\"" + id + "\"}", "1", null).statusCode());
  }

  @Test
  public void thePagesOriginReachesTheBackendAsItsOwnSoThatItsSameOriginCheckPasses() throws Exception {
    String page = "http://127.0.0.1:" + stack.port();
    HttpResponse<String> open = http.send(HttpRequest.newBuilder(URI.create(page + "/websocket-shim/open"))
        .header("Origin", page).header("X-Websocket-Shim-Version", "1")
        .POST(HttpRequest.BodyPublishers.ofString("ws://127.0.0.1:" + stack.port() + "/echo")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, open.statusCode());
    org.eclipse.jetty.http.HttpFields handshake = backend.handshakes.take();
    assertEquals("127.0.0.1:" + backend.port(), WebSocketBackend.field(handshake, "Host"));
    assertEquals("http://127.0.0.1:" + backend.port(), WebSocketBackend.field(handshake, "Origin"));
  }

  @Test
  public void version0CarriesBinaryAsRawText() throws Exception {
    HttpResponse<String> open = call("open", "ws://127.0.0.1:" + stack.port() + "/echo", null, null);
    JsonNode session = JSON.readTree(open.body());
    assertEquals(0, session.get("v").asInt());
    String id = session.get("id").asText();
    assertEquals(200, call("data", "[{\"id\":\"" + id + "\",\"msg\":[\"raw\"]}]", null, null).statusCode());
    WebSocketBackend.Received frame = backend.frames.take();
    assertEquals(org.eclipse.jetty.websocket.core.OpCode.BINARY, frame.opcode());
    assertEquals("raw", frame.text());
    assertEquals("[[\"raw\"]]", call("poll", "{\"id\":\"" + id + "\"}", null, null).body());
  }

  @Test
  public void aClosedBackendEndsThePollWith400AndItsCloseCode() throws Exception {
    HttpResponse<String> open = call("open", "ws://127.0.0.1:" + stack.port() + "/close?code=4000&reason=bye", "1", null);
    String id = JSON.readTree(open.body()).get("id").asText();
    HttpResponse<String> poll = call("poll", "{\"id\":\"" + id + "\"}", "1", null);
    assertEquals(400, poll.statusCode());
    assertEquals("4000", poll.headers().firstValue("X-Websocket-Shim-Close-Code").orElse(""));
    assertEquals("bye", poll.headers().firstValue("X-Websocket-Shim-Close-Reason").orElse(""));
  }

  @Test
  public void anUnknownSessionGets400() throws Exception {
    assertEquals(400, call("data", "[{\"id\":\"nope\",\"msg\":\"x\"}]", "1", null).statusCode());
    assertEquals(400, call("poll", "{\"id\":\"nope\"}", "1", null).statusCode());
    assertEquals(400, call("close", "{\"id\":\"nope\"}", "1", null).statusCode());
  }

  @Test
  public void aSessionIdleForTheShimTimeoutIsClosed() throws Exception {
    HttpResponse<String> open = call("open", "ws://127.0.0.1:" + stack.port() + "/echo", "1", null);
    String id = JSON.readTree(open.body()).get("id").asText();
    CloseStatus status = backend.closes.poll(10, TimeUnit.SECONDS);
    assertEquals(CloseStatus.SHUTDOWN, status.getCode());
    assertEquals(400, call("poll", "{\"id\":\"" + id + "\"}", "1", null).statusCode());
  }

  @Test
  public void aPollWithNothingToSayAnswers408() throws Exception {
    HttpResponse<String> open = call("open", "ws://127.0.0.1:" + stack.port() + "/echo", "1", null);
    String id = JSON.readTree(open.body()).get("id").asText();
    assertEquals(408, call("poll", "{\"id\":\"" + id + "\"}", "1", null).statusCode());
  }

  @Test
  public void htmlPagesGetTheShimScriptRightAfterTheHead() throws Exception {
    backend.page("<!doctype html><html><head><title>t</title></head><body>x</body></html>");
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.port()
        + "/index.html")).build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(page.body(), page.body().startsWith("<!doctype html><html><head><!--START_WEBSOCKET_SHIM--><script>"));
    assertTrue(page.body().contains("\"websocket-shim\""));
    assertTrue(page.body().endsWith("<!--END_WEBSOCKET_SHIM--><title>t</title></head><body>x</body></html>"));
  }
}
