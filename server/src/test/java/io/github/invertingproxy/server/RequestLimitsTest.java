package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.MessageLimits;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** Requests built byte by byte, as a hostile client would send them. */
public class RequestLimitsTest {
  private StandaloneServer server;

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0)
        .settings(ProxySettings.builder().messageLimits(new MessageLimits(4096, 20)).build()).build().start();
    server.registry().add(BackendRecord.builder().id("b").endUser("allUsers").backendUser("a@b").pathPrefixes("/").build());
    server.registry().markSeen("b");
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  @Test
  public void bothContentLengthAndTransferEncodingIs400() throws Exception {
    String r = RawHttp.exchange(server.port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(r, 400, RawHttp.status(r));
    assertEquals("nothing was queued", 0, server.exchanges().size());
  }

  @Test
  public void malformedContentLengthIs400() throws Exception {
    String r = RawHttp.exchange(server.port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\nConnection: close\r\n\r\nhello");
    assertEquals(r, 400, RawHttp.status(r));
  }

  @Test
  public void tooManyHeaderFieldsIs431() throws Exception {
    StringBuilder b = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (int i = 0; i < 25; i++) {
      b.append("X-Field-").append(i).append(": v\r\n");
    }
    String r = RawHttp.exchange(server.port(), b.append("\r\n").toString());
    assertEquals(r, 431, RawHttp.status(r));
    assertTrue(r, r.contains("27 fields, the limit is 20"));
  }

  @Test
  public void oversizedHeadIs431() throws Exception {
    String r = RawHttp.exchange(server.port(),
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(5000) + "\r\nConnection: close\r\n\r\n");
    assertEquals(r, 431, RawHttp.status(r));
  }
}
