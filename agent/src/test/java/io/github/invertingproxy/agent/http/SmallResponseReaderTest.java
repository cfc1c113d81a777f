package io.github.invertingproxy.agent.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.MessageLimits;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.Test;

/** Which backend responses the selector carries whole, fed as bytes, without a network. */
public class SmallResponseReaderTest {
  private final SmallResponseReader reader = new SmallResponseReader(16, new MessageLimits(256, 4));

  private SmallResponseReader.Result read(String response) {
    return read(response, false);
  }

  private SmallResponseReader.Result read(String response, boolean noBody) {
    byte[] bytes = response.getBytes(StandardCharsets.ISO_8859_1);
    return reader.read(bytes, bytes.length, noBody);
  }

  @Test
  public void aResponseWithAContentLengthIsReadWhole() {
    String response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    SmallResponseReader.Result r = read(response);
    assertTrue(r.complete());
    assertEquals(200, r.status());
    assertEquals("OK", r.reason());
    assertEquals(List.of(new HeaderField("Content-Type", "text/plain"), new HeaderField("Content-Length", "5")),
        r.headers().asList());
    assertEquals("hello", response.substring(r.bodyStart(), r.bodyStart() + r.bodyLength()));
    assertEquals(response.length(), r.end());
    assertTrue(r.keepAlive());
  }

  @Test
  public void everyPrefixOfAResponseNeedsMore() {
    String response = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
    for (int i = 0; i < response.length(); i++) {
      assertSame("after " + i + " bytes", SmallResponseReader.NEED_MORE, read(response.substring(0, i)));
    }
    assertTrue(read(response).complete());
  }

  @Test
  public void fieldValuesLoseTheirSurroundingWhitespaceAndKeepTheirCase() {
    SmallResponseReader.Result r = read("HTTP/1.1 200 \r\nX-Odd:  \tA b\t \r\ncontent-length: 0\r\n\r\n");
    assertEquals("", r.reason());
    assertEquals(List.of(new HeaderField("X-Odd", "A b"), new HeaderField("content-length", "0")),
        r.headers().asList());
    assertEquals(0, r.bodyLength());
  }

  @Test
  public void interimResponsesAreSkipped() {
    String response = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    SmallResponseReader.Result r = read(response);
    assertEquals(201, r.status());
    assertEquals("ok", response.substring(r.bodyStart(), r.end()));
    assertSame(SmallResponseReader.NEED_MORE, read("HTTP/1.1 100 Continue\r\n\r\n"));
  }

  @Test
  public void responsesWithoutABodyEndWithTheirHeadWhateverTheirContentLength() {
    assertEquals(0, read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true).bodyLength());
    assertEquals(0, read("HTTP/1.1 204 No Content\r\n\r\n").bodyLength());
    SmallResponseReader.Result notModified = read("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    assertTrue(notModified.complete());
    assertEquals(0, notModified.bodyLength());
  }

  @Test
  public void connectionCloseEndsKeepAlive() {
    assertFalse(read("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n").keepAlive());
  }

  @Test
  public void bytesAfterTheResponseAreLeftOutOfIt() {
    SmallResponseReader.Result r = read("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1");
    assertEquals(39, r.end());
  }

  @Test
  public void streamedLargeOrUntilCloseBodiesAreNotSmall() {
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"));
  }

  @Test
  public void anythingOddIsLeftToTheBlockingClient() {
    String[] odd = {
        "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Bare: a\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: a\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Latin: caf\u00e9\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\n: no name\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Long: " + "y".repeat(256) + "\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nContent-Length: 0\r\n\r\n",
    };
    for (String response : odd) {
      assertSame(response, SmallResponseReader.NOT_SMALL, read(response));
    }
  }

  @Test
  public void aHeadThatOutgrowsTheLimitsWithoutEndingIsNotSmall() {
    assertSame(SmallResponseReader.NEED_MORE, read("HTTP/1.1 200 OK\r\nX: " + "y".repeat(40)));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nX: " + "y".repeat(1400)));
  }

  @Test
  public void aResponseArrivingByteByByteNeedsMoreUntilItsLastByteWhateverFollowsInTheBuffer() {
    // The selector's buffer holds older bytes past what has arrived: the reader must never look there.
    String response = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nbody";
    byte[] bytes = (response + "HTTP/1.1 500 Stale\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    for (int arrived = 0; arrived < response.length(); arrived++) {
      assertSame("after " + arrived + " bytes", SmallResponseReader.NEED_MORE, reader.read(bytes, arrived, false));
    }
    SmallResponseReader.Result r = reader.read(bytes, response.length(), false);
    assertEquals(200, r.status());
    assertEquals("body", response.substring(r.bodyStart(), r.end()));
  }

  @Test
  public void anObsFoldedFieldIsLeftToTheBlockingClient() {
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 0\r\n\r\n"));
  }

  @Test
  public void badStatusLinesAreLeftToTheBlockingClient() {
    String[] bad = {
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 200 O\u00e9\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "\r\n\r\n",
    };
    for (String response : bad) {
      assertSame(response, SmallResponseReader.NOT_SMALL, read(response));
    }
  }

  @Test
  public void asManyFieldsAsTheLimitAreCarriedAndOneMoreIsNot() {
    assertTrue(read("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n").complete());
    assertSame(SmallResponseReader.NOT_SMALL,
        read("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nContent-Length: 0\r\n\r\n"));
  }

  @Test
  public void aBareCarriageReturnOrControlCharacterInAFieldIsLeftToTheBlockingClient() {
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nX-A: a\u0001\r\nContent-Length: 0\r\n\r\n"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"));
  }

  @Test
  public void chunkedOrAmbiguousFramingIsLeftToTheBlockingClient() {
    assertSame(SmallResponseReader.NOT_SMALL,
        read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertSame(SmallResponseReader.NOT_SMALL, read("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx"));
  }
}
