package io.github.invertingproxy.appengine;

import io.github.invertingproxy.core.spi.ExchangeRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** A client request already in wire format. */
final class BytesRequest implements ExchangeRequest {
  private final String user;
  private final String method;
  private final byte[] wire;
  private final Instant start = Instant.parse("2025-01-01T00:00:00.123456789Z");

  BytesRequest(String user, String method, byte[] wire) {
    this.user = user;
    this.method = method;
    this.wire = wire;
  }

  static BytesRequest get(String path) {
    return new BytesRequest("alice@example.com", "GET",
        ("GET " + path + " HTTP/1.1\r\nHost: backend\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
  }

  /** A POST whose body is {@code body}. */
  static BytesRequest post(String path, byte[] body) {
    byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: backend\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return new BytesRequest("alice@example.com", "POST", all);
  }

  byte[] wire() {
    return wire;
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public Instant startTime() {
    return start;
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public void writeTo(OutputStream out) throws IOException {
    // In slices, as a servlet streaming the client's body would.
    for (int off = 0; off < wire.length; off += 64 * 1024) {
      out.write(wire, off, Math.min(64 * 1024, wire.length - off));
    }
  }
}
