package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Logger;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * A WebSocket client, the stand-alone proxy, our agent and a real WebSocket backend: every kind of
 * frame crosses both ways unchanged, frame by frame, with the fast paths on and with them off.
 */
@RunWith(Parameterized.class)
public class WebSocketRelayTest {
  private static final Logger LOG = Logger.getLogger(WebSocketRelayTest.class.getName());

  @Parameterized.Parameters(name = "{0}")
  public static List<FastPaths> configurations() {
    return FastPaths.both();
  }

  private final FastPaths fastPaths;
  private Stack stack;
  private WebSocketBackend backend;

  public WebSocketRelayTest(FastPaths fastPaths) {
    this.fastPaths = fastPaths;
  }

  @Before
  public void start() throws Exception {
    backend = new WebSocketBackend();
    stack = new Stack(fastPaths);
    stack.backend("ws", backend.hostAndPort());
  }

  @After
  public void stop() throws Exception {
    stack.close();
    backend.close();
  }

  private String ws(String path) {
    return "ws://127.0.0.1:" + stack.port() + path;
  }

  @Test
  public void textAndBinaryMessagesCrossInBothDirections() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"))) {
      client.sendText("héllo");
      byte[] bytes = {0, 1, 2, (byte) 0xff, 127, (byte) 0x80};
      client.sendBinary(bytes);
      WsClient.Got text = client.next();
      assertEquals(OpCode.TEXT, text.opcode());
      assertEquals("héllo", text.text());
      WsClient.Got binary = client.next();
      assertEquals(OpCode.BINARY, binary.opcode());
      assertArrayEquals(bytes, binary.payload());
      assertEquals("héllo", backend.frames.take().text());
      assertArrayEquals(bytes, backend.frames.take().payload());
    }
  }

  @Test
  public void aFragmentedMessageArrivesAsTheSameFragments() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"))) {
      client.send(OpCode.TEXT, false, "one ".getBytes(UTF_8));
      client.send(OpCode.CONTINUATION, false, "two ".getBytes(UTF_8));
      client.send(OpCode.CONTINUATION, true, "three".getBytes(UTF_8));
      for (String[] expected : new String[][] {{"1", "false", "one "}, {"0", "false", "two "}, {"0", "true", "three"}}) {
        WebSocketBackend.Received got = backend.frames.take();
        assertEquals(Byte.parseByte(expected[0]), got.opcode());
        assertEquals(Boolean.parseBoolean(expected[1]), got.fin());
        assertEquals(expected[2], got.text());
        WsClient.Got back = client.next();
        assertEquals(Byte.parseByte(expected[0]), back.opcode());
        assertEquals(Boolean.parseBoolean(expected[1]), back.fin());
        assertEquals(expected[2], back.text());
      }
    }
  }

  @Test
  public void aClientsPingReachesTheBackendAndItsPongComesBack() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"))) {
      client.send(OpCode.PING, true, "are you there".getBytes(UTF_8));
      WebSocketBackend.Received ping = backend.frames.take();
      assertEquals(OpCode.PING, ping.opcode());
      assertEquals("are you there", ping.text());
      WsClient.Got pong = client.next();
      assertEquals(OpCode.PONG, pong.opcode());
      assertEquals("are you there", pong.text());
    }
  }

  @Test
  public void theClientsCloseCodeAndReasonReachTheBackend() throws Exception {
    WsClient client = WsClient.connect(ws("/echo"));
    client.close(4001, "leaving now");
    CloseStatus atBackend = backend.closes.take();
    assertEquals(4001, atBackend.getCode());
    assertEquals("leaving now", atBackend.getReason());
    CloseStatus atClient = client.awaitClose();
    assertEquals(4001, atClient.getCode());
  }

  @Test
  public void theBackendsCloseCodeAndReasonReachTheClient() throws Exception {
    WsClient client = WsClient.connect(ws("/close?code=4000&reason=bye"));
    CloseStatus status = client.awaitClose();
    assertEquals(4000, status.getCode());
    assertEquals("bye", status.getReason());
  }

  @Test
  public void theClientGetsTheSubprotocolTheBackendAccepted() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"), List.of("chat.v1", "chat.v2"), Map.of())) {
      assertEquals("chat.v2", client.session().getNegotiatedSubProtocol());
      assertEquals(List.of("chat.v1", "chat.v2"), backend.handshakes.take().getCSV("Sec-WebSocket-Protocol", true));
    }
  }

  @Test
  public void thePermessageDeflateOfferIsRefusedAndFramesCrossUncompressed() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"), List.of(),
        Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))) {
      assertTrue(client.session().getNegotiatedExtensions().isEmpty());
      assertNull(WebSocketBackend.field(backend.handshakes.take(), "Sec-WebSocket-Extensions"));
      client.sendText("plain");
      assertEquals("plain", client.next().text());
    }
  }

  @Test
  public void theHandshakesFieldsReachTheBackendAndItsCookieReachesTheClient() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"), List.of(),
        Map.of("Cookie", "session=abc", "Origin", "http://example.test", "X-Custom", "yes"))) {
      var handshake = backend.handshakes.take();
      assertEquals("session=abc", WebSocketBackend.field(handshake, "Cookie"));
      assertEquals("http://example.test", WebSocketBackend.field(handshake, "Origin"));
      assertEquals("yes", WebSocketBackend.field(handshake, "X-Custom"));
      assertEquals("127.0.0.1:" + stack.port(), WebSocketBackend.field(handshake, "Host"));
      assertEquals("ws=1; Path=/", client.handshakeAnswer.get("Set-Cookie"));
    }
  }

  @Test
  public void tenThousandMessagesArriveInOrder() throws Exception {
    try (WsClient client = WsClient.connect(ws("/echo"))) {
      long start = System.nanoTime();
      for (int i = 0; i < 10_000; i++) {
        client.sendText("message " + i);
      }
      for (int i = 0; i < 10_000; i++) {
        assertEquals("message " + i, client.next().text());
      }
      LOG.info("10,000 messages echoed in " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }
  }

  @Test
  public void aSixteenMebibyteBinaryMessageCrossesWhole() throws Exception {
    byte[] big = new byte[16 * 1024 * 1024];
    new Random(7).nextBytes(big);
    try (WsClient client = WsClient.connect(ws("/echo"))) {
      long start = System.nanoTime();
      client.sendBinary(big);
      WsClient.Got back = client.next();
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(OpCode.BINARY, back.opcode());
      assertTrue(back.fin());
      assertArrayEquals(big, back.payload());
      LOG.info("16 MiB message there and back in " + millis + " ms");
      System.out.println("16 MiB binary message echoed through proxy and agent in " + millis + " ms");
    }
  }

  @Test
  public void concurrentSocketsKeepTheirOwnMessages() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int s = 0; s < 20; s++) {
        int socket = s;
        done.add(pool.submit(() -> {
          try (WsClient client = WsClient.connect(ws("/echo"))) {
            for (int i = 0; i < 200; i++) {
              client.sendText(socket + ":" + i);
            }
            for (int i = 0; i < 200; i++) {
              assertEquals(socket + ":" + i, client.next().text());
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  public void aBackendThatRefusesTheUpgradeGivesTheClientItsStatus() throws Exception {
    try (RawClient raw = new RawClient(stack.port())) {
      raw.send("GET /refuse HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
      assertEquals(403, raw.response("GET").head().status());
    }
  }
}
