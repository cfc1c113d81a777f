package io.github.invertingproxy.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import org.junit.Test;

public class MessageCodecTest {
  private static InputStream bytes(String s) {
    return new ByteArrayInputStream(s.getBytes(ISO_8859_1));
  }

  @Test
  public void requestTargetIsKeptExactlyAsSent() throws IOException {
    IncomingMessage<RequestHead> m = MessageReader.readRequest(
        bytes("GET /a%20b/%2F?q=%E2%9C%93&x=1+2 HTTP/1.1\r\nHost: example.com\r\n\r\n"), MessageLimits.DEFAULT);
    assertEquals("GET", m.head().method());
    assertEquals("/a%20b/%2F?q=%E2%9C%93&x=1+2", m.head().target());
    assertEquals("/a%20b/%2F", m.head().path());
    assertEquals(BodyFraming.NONE, m.framing());
    assertEquals(-1, m.body().read());
  }

  @Test
  public void repeatedHeadersKeepTheirOrder() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        bytes("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Other: y\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n"),
        "GET", MessageLimits.DEFAULT);
    assertEquals(java.util.List.of("a=1", "b=2"), m.head().headers().all("set-cookie"));
    assertEquals("X-Other", m.head().headers().asList().get(1).name());
  }

  @Test
  public void chunkedBodyAndTrailersAreDecoded() throws IOException {
    IncomingMessage<RequestHead> m = MessageReader.readRequest(bytes(
        "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"), MessageLimits.DEFAULT);
    assertEquals("hello world", new String(m.body().readAllBytes(), ISO_8859_1));
    assertEquals("abc", m.trailers().first("X-Checksum").orElseThrow());
  }

  @Test
  public void bothContentLengthAndTransferEncodingAreRefused() {
    MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> MessageReader.readRequest(
        bytes("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        MessageLimits.DEFAULT));
    assertTrue(e.getMessage(), e.getMessage().contains("both Content-Length and Transfer-Encoding"));
  }

  @Test
  public void malformedContentLengthIsRefused() {
    assertThrows(MalformedMessageException.class, () -> MessageReader.readRequest(
        bytes("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\nhello"), MessageLimits.DEFAULT));
    assertThrows(MalformedMessageException.class, () -> MessageReader.readRequest(
        bytes("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"), MessageLimits.DEFAULT));
  }

  @Test
  public void tooManyHeadersAreRefused() {
    StringBuilder b = new StringBuilder("GET / HTTP/1.1\r\n");
    for (int i = 0; i < 11; i++) {
      b.append("X-H").append(i).append(": v\r\n");
    }
    b.append("\r\n");
    assertThrows(MalformedMessageException.class,
        () -> MessageReader.readRequest(bytes(b.toString()), new MessageLimits(1024, 10)));
  }

  @Test
  public void overlongHeaderLineIsRefused() {
    String head = "GET / HTTP/1.1\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\n";
    assertThrows(MalformedMessageException.class,
        () -> MessageReader.readRequest(bytes(head), new MessageLimits(1024, 10)));
  }

  @Test
  public void garbageIsNotAResponse() {
    assertThrows(MalformedMessageException.class,
        () -> MessageReader.readResponse(bytes("this is not http\r\n\r\n"), "GET", MessageLimits.DEFAULT));
    assertThrows(MalformedMessageException.class,
        () -> MessageReader.readResponse(bytes(""), "GET", MessageLimits.DEFAULT));
  }

  @Test
  public void truncatedChunkedBodyFailsInsteadOfEndingCleanly() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"), "GET", MessageLimits.DEFAULT);
    assertThrows(IOException.class, () -> m.body().readAllBytes());
  }

  @Test
  public void truncatedLengthBodyFailsInsteadOfEndingCleanly() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"), "GET", MessageLimits.DEFAULT);
    assertThrows(IOException.class, () -> m.body().readAllBytes());
  }

  @Test
  public void responseToHeadHasNoBodyDespiteItsLength() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        bytes("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"), "HEAD", MessageLimits.DEFAULT);
    assertEquals(BodyFraming.NONE, m.framing());
    assertEquals("1234", m.head().headers().first("Content-Length").orElseThrow());
    assertEquals(-1, m.body().read());
  }

  @Test
  public void responseWithoutFramingReadsToTheEnd() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        bytes("HTTP/1.1 200 OK\r\n\r\nuntil close"), "GET", MessageLimits.DEFAULT);
    assertEquals("until close", new String(m.body().readAllBytes(), ISO_8859_1));
  }

  @Test
  public void writtenChunkedResponseParsesBackByteForByte() throws IOException {
    byte[] body = new byte[300_000];
    new Random(7).nextBytes(body);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ResponseHead head = new ResponseHead(201, "Created",
        Headers.of("Set-Cookie", "a=1", "Set-Cookie", "b=2", "Transfer-Encoding", "chunked"));
    MessageWriter.writeHead(wire, head);
    try (OutputStream out = MessageWriter.openBody(wire, BodyFraming.CHUNKED, () -> Headers.of("X-Sum", "42"))) {
      out.write(body, 0, 1000);
      out.flush();
      out.write(body, 1000, body.length - 1000);
    }
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        new ByteArrayInputStream(wire.toByteArray()), "GET", MessageLimits.DEFAULT);
    assertEquals(201, m.head().status());
    assertEquals("Created", m.head().reason());
    assertEquals(head.headers(), m.head().headers());
    assertArrayEquals(body, m.body().readAllBytes());
    assertEquals("42", m.trailers().first("X-Sum").orElseThrow());
  }

  @Test
  public void writtenRequestWithLengthParsesBack() throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    RequestHead head = new RequestHead("PUT", "/x?y=%20", Headers.of("Host", "h:1", "Content-Length", "3"));
    MessageWriter.writeHead(wire, head);
    try (OutputStream out = MessageWriter.openBody(wire, new BodyFraming.Length(3), Headers::empty)) {
      out.write("abc".getBytes(ISO_8859_1));
    }
    assertEquals("PUT /x?y=%20 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 3\r\n\r\nabc", wire.toString(ISO_8859_1));
    IncomingMessage<RequestHead> m = MessageReader.readRequest(
        new ByteArrayInputStream(wire.toByteArray()), MessageLimits.DEFAULT);
    assertEquals(head, m.head());
    assertEquals("abc", new String(m.body().readAllBytes(), ISO_8859_1));
  }

  @Test
  public void lengthBodyRefusesToOverrunOrFallShort() throws IOException {
    OutputStream over = MessageWriter.openBody(new ByteArrayOutputStream(), new BodyFraming.Length(2), Headers::empty);
    assertThrows(IOException.class, () -> over.write(new byte[3]));
    OutputStream shortBody = MessageWriter.openBody(new ByteArrayOutputStream(), new BodyFraming.Length(2), Headers::empty);
    shortBody.write(1);
    assertThrows(IOException.class, shortBody::close);
  }

  @Test
  public void headerValuesCannotInjectLines() {
    assertThrows(IllegalArgumentException.class, () -> new HeaderField("X-A", "v\r\nX-Injected: 1"));
    assertThrows(IllegalArgumentException.class, () -> new HeaderField("X A", "v"));
  }

  @Test
  public void copyBufferIsAsLargeAsAKnownBodyAndAtMostTheMaximum() {
    assertEquals(100, new BodyFraming.Length(100).copyBufferSize(65536));
    assertEquals(65536, new BodyFraming.Length(1L << 40).copyBufferSize(65536));
    assertEquals(1, new BodyFraming.Length(0).copyBufferSize(65536));
    assertEquals(65536, BodyFraming.CHUNKED.copyBufferSize(65536));
    assertEquals(65536, BodyFraming.UNTIL_CLOSE.copyBufferSize(65536));
    assertThrows(IllegalArgumentException.class, () -> BodyFraming.CHUNKED.copyBufferSize(0));
  }

  @Test
  public void onlyNoBodyOrALengthWithinTheLimitIsKnownToFit() {
    assertTrue(BodyFraming.NONE.knownAtMost(0));
    assertTrue(new BodyFraming.Length(65536).knownAtMost(65536));
    assertFalse(new BodyFraming.Length(65537).knownAtMost(65536));
    assertFalse(BodyFraming.CHUNKED.knownAtMost(Long.MAX_VALUE));
    assertFalse(BodyFraming.UNTIL_CLOSE.knownAtMost(Long.MAX_VALUE));
  }

  // Found by WireReaderFuzzTest: each of these once escaped as another exception or changed on relay.

  @Test
  public void statusCodeZeroIsRefusedAsMalformed() {
    assertThrows(MalformedMessageException.class, () -> MessageReader.readResponse(
        bytes("HTTP/1.1 000 OK\r\nContent-Length: 0\r\n\r\n"), "GET", MessageLimits.DEFAULT));
  }

  @Test
  public void trailerWithAnIllegalNameFailsTheBodyReadAsMalformed() throws IOException {
    IncomingMessage<RequestHead> m = MessageReader.readRequest(bytes(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-\u00ffSum: 1\r\n\r\n"),
        MessageLimits.DEFAULT);
    MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> m.body().readAllBytes());
    assertTrue(e.getMessage(), e.getMessage().startsWith("bad trailer field"));
  }

  @Test
  public void trailerWithAControlCharacterIsRefused() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(bytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 4\u000b2\r\n\r\n"),
        "GET", MessageLimits.DEFAULT);
    assertThrows(MalformedMessageException.class, () -> m.body().readAllBytes());
  }

  @Test
  public void trailerValueWithHighBytesIsWrittenByteForByte() throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    try (OutputStream out = MessageWriter.openBody(wire, BodyFraming.CHUNKED, () -> Headers.of("X-Sum", "\u00e4z\u0098"))) {
      out.write('x');
    }
    assertEquals("1\r\nx\r\n0\r\nX-Sum: \u00e4z\u0098\r\n\r\n", wire.toString(ISO_8859_1));
  }

  @Test
  public void responseFieldValueEndingInNulReadsTheSameAfterBeingWrittenBack() throws IOException {
    IncomingMessage<ResponseHead> m = MessageReader.readResponse(
        bytes("HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\u0000\r\n\r\n"), "GET", MessageLimits.DEFAULT);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    MessageWriter.writeHead(wire, m.head());
    IncomingMessage<ResponseHead> again = MessageReader.readResponse(
        new ByteArrayInputStream(wire.toByteArray()), "GET", MessageLimits.DEFAULT);
    assertEquals(m.head(), again.head());
  }

  @Test
  public void trailerValueWithNulReadsTheSameAfterBeingWrittenBack() throws IOException {
    IncomingMessage<RequestHead> m = MessageReader.readRequest(bytes(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum:\u0000 1a2b\r\n\r\n"),
        MessageLimits.DEFAULT);
    m.body().readAllBytes();
    assertEquals(Headers.of("X-Sum", "1a2b"), m.trailers());
  }
}
