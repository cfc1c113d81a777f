package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.ResponseHead;
import java.time.Duration;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * Responses whose framing a proxy must not take at its word: 204 and 304 never have a body whatever
 * their Content-Length says, and interim 1xx responses come before the final one. A client gets each
 * final response cleanly framed, and its connection carries the next exchange correctly. Both ways
 * from the agent are tried: the plain agent calls, and the channel (with the agent's selector).
 */
@RunWith(Parameterized.class)
public class BodilessResponsesTest {
  @Parameterized.Parameters(name = "channel={0}")
  public static List<Object[]> ways() {
    return List.of(new Object[] {false}, new Object[] {true});
  }

  @Parameterized.Parameter
  public boolean channel;

  private Stack stack;
  private RecordingBackend backend;

  @Before
  public void start() throws Exception {
    backend = new RecordingBackend((r, body, out) -> out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        .getBytes(ISO_8859_1)));
    stack = new Stack(ProxySettings.builder().pendingTimeout(Duration.ofSeconds(5))
        .responseTimeout(Duration.ofSeconds(20)).build(), channel);
    stack.backend("b", backend.hostAndPort());
    if (channel) {
      Await.until(() -> stack.server.exchanges().channelCount("b") == 1, "the agent's channel to be attached");
    }
  }

  @After
  public void stop() throws Exception {
    stack.close();
    backend.close();
  }

  /** The backend answers requests for {@code /special} with {@code raw}, and others with 200 "ok". */
  private void special(String raw) {
    backend.handler((r, body, out) -> out.write((r.head().target().equals("/special") ? raw
        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").getBytes(ISO_8859_1)));
  }

  /** Sends GET /special, then GET /next on the same connection; checks the second arrives whole. */
  private IncomingMessage<ResponseHead> specialThenNext(String method, RawClient client) throws Exception {
    IncomingMessage<ResponseHead> first = client.send(method + " /special HTTP/1.1\r\nHost: x\r\n\r\n").response(method);
    byte[] firstBody = first.body().readAllBytes();
    assertEquals("no body after " + first.head(), 0, firstBody.length);
    IncomingMessage<ResponseHead> next = client.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
    assertEquals(200, next.head().status());
    assertEquals("ok", new String(next.body().readAllBytes(), ISO_8859_1));
    return first;
  }

  @Test
  public void a204WithAContentLengthReachesTheClientWithoutABody() throws Exception {
    special("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\n");
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> first = specialThenNext("GET", client);
      assertEquals(204, first.head().status());
      assertEquals("yes", first.head().headers().first("X-Kept").orElseThrow());
      assertFalse(first.head().headers().contains("Transfer-Encoding"));
    }
  }

  @Test
  public void a304WithAContentLengthReachesTheClientWithoutABody() throws Exception {
    special("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"v1\"\r\n\r\n");
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> first = specialThenNext("GET", client);
      assertEquals(304, first.head().status());
      assertEquals("\"v1\"", first.head().headers().first("ETag").orElseThrow());
    }
  }

  @Test
  public void aChunkedAnswerToHeadReachesTheClientWithoutABody() throws Exception {
    special("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    try (RawClient client = new RawClient(stack.port())) {
      assertEquals(200, specialThenNext("HEAD", client).head().status());
    }
  }

  @Test
  public void interimResponsesBeforeTheFinalOneAreDropped() throws Exception {
    special("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
    try (RawClient client = new RawClient(stack.port())) {
      IncomingMessage<ResponseHead> response = client.send("GET /special HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
      assertEquals(200, response.head().status());
      assertEquals("final", new String(response.body().readAllBytes(), ISO_8859_1));
      IncomingMessage<ResponseHead> next = client.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
      assertEquals("ok", new String(next.body().readAllBytes(), ISO_8859_1));
    }
  }
}
