package io.github.invertingproxy.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Agent responses whose framing the proxy must not take at its word: a 204 with a Content-Length,
 * interim 1xx responses before the final one. The client gets one cleanly framed final response,
 * and its connection carries the next exchange.
 */
public class AgentResponseFramingTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private AliceApp app;
  private Socket socket;
  private OutputStream out;
  private InputStream in;

  @Before
  public void start() throws Exception {
    app = AliceApp.start(tmp.getRoot().toPath(), StandaloneServer.builder().lease(Duration.ofMillis(500))
        .settings(ProxySettings.builder().responseTimeout(Duration.ofSeconds(20)).pendingTimeout(Duration.ofSeconds(1)).build()));
    socket = new Socket("127.0.0.1", app.server.port());
    socket.setSoTimeout(20_000);
    out = socket.getOutputStream();
    in = new BufferedInputStream(socket.getInputStream());
  }

  @After
  public void stop() throws Exception {
    socket.close();
    app.close();
  }

  /** Sends {@code method /path} as alice on the one connection, answers it with {@code wire} as the agent. */
  private IncomingMessage<ResponseHead> exchange(String method, String path, String wire) throws Exception {
    out.write((method + " " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestTokens.ALICE + "\r\n\r\n")
        .getBytes(ISO_8859_1));
    out.flush();
    String id = app.agent.pendingWithin(5).get(0);
    app.agent.take(id);
    assertEquals(200, app.agent.respond(id, AliceApp.wire(wire)).statusCode());
    return MessageReader.readResponse(in, method, MessageLimits.DEFAULT);
  }

  private void nextExchangeOnTheSameConnectionWorks() throws Exception {
    IncomingMessage<ResponseHead> next = exchange("GET", "/next", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertEquals(200, next.head().status());
    assertEquals("ok", new String(next.body().readAllBytes(), ISO_8859_1));
  }

  @Test
  public void a204WithAContentLengthIsRelayedWithoutABodyOrLength() throws Exception {
    IncomingMessage<ResponseHead> r = exchange("GET", "/empty", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\n");
    assertEquals(204, r.head().status());
    assertEquals("yes", r.head().headers().first("X-Kept").orElseThrow());
    assertFalse(r.head().headers().contains("Content-Length"));
    assertEquals(0, r.body().readAllBytes().length);
    nextExchangeOnTheSameConnectionWorks();
  }

  @Test
  public void interimResponsesBeforeTheFinalOneAreDropped() throws Exception {
    IncomingMessage<ResponseHead> r = exchange("GET", "/hints", "HTTP/1.1 100 Continue\r\n\r\n"
        + "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
    assertEquals(200, r.head().status());
    assertEquals("final", new String(r.body().readAllBytes(), ISO_8859_1));
    nextExchangeOnTheSameConnectionWorks();
  }
}
