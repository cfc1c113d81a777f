package io.github.invertingproxy.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Valid HTTP/1.1 messages as the agent protocol carries them, each with what a reading must give and
 * where its body's data bytes lie on the wire (a byte changed there changes only that body byte).
 */
final class WireCorpus {
  /** A wire message and its expected reading; {@code requestMethod} is null for a request. */
  record Sample(String name, String requestMethod, byte[] wire, WireReading expected, List<int[]> dataRegions) {
    boolean isRequest() {
      return requestMethod == null;
    }
  }

  private WireCorpus() {}

  static List<Sample> samples() {
    List<Sample> all = new ArrayList<>();
    all.add(request("GET", "GET /notebooks/a%20b?x=1&y=%2F HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        + "User-Agent: fuzz\r\nAccept: */*\r\nCookie: a=1; b=2\r\n\r\n", "", null));
    all.add(request("POST with Content-Length", "POST /api/items HTTP/1.1\r\nHost: h\r\n"
        + "Content-Type: application/json\r\nContent-Length: 27\r\n\r\n", "{\"name\":\"x\",\"values\":[1,2]}", null));
    all.add(request("chunked POST with trailers", "POST /upload HTTP/1.1\r\nHost: h\r\n"
        + "Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n", "hello, chunked world",
        new String[] {"X-Checksum: 1a2b", "X-Done: yes"}, 5, 7));
    all.add(request("PUT with many headers", "PUT /x/y/z HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-B: two words\r\n"
        + "X-C: ,,\r\nAccept-Encoding: gzip, deflate\r\nX-Empty:\r\nContent-Length: 4\r\n\r\n", "abcd", null));
    all.add(response("200 with repeated Set-Cookie", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
        + "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\nSet-Cookie: c=3\r\nContent-Length: 12\r\n\r\n",
        "<p>hello</p>", null));
    all.add(response("204", "DELETE", "HTTP/1.1 204 No Content\r\nDate: Sat, 05 Dec 2026 20:00:00 GMT\r\n\r\n", "", null));
    all.add(response("304", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nContent-Length: 99\r\n\r\n", "", null));
    all.add(response("chunked 200 with trailers", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n", "data: one\n\ndata: two\n\n", new String[] {"X-Sum: 42"}, 11, 3));
    all.add(response("response to HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "", null));
    all.add(response("until close", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", "to the end", null));
    return all;
  }

  private static Sample request(String name, String head, String body, String[] trailers, int... chunkSizes) {
    return sample(name, null, head, body, trailers, chunkSizes);
  }

  private static Sample response(String name, String method, String head, String body, String[] trailers,
      int... chunkSizes) {
    return sample(name, method, head, body, trailers, chunkSizes);
  }

  /** Chunked when {@code trailers} is non-null: the body in chunks of {@code chunkSizes}, the rest last. */
  private static Sample sample(String name, String requestMethod, String head, String body, String[] trailers,
      int[] chunkSizes) {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    List<int[]> data = new ArrayList<>();
    wire.writeBytes(head.getBytes(ISO_8859_1));
    byte[] bodyBytes = body.getBytes(ISO_8859_1);
    List<HeaderField> trailerFields = new ArrayList<>();
    if (trailers == null) {
      if (bodyBytes.length > 0) {
        data.add(new int[] {wire.size(), wire.size() + bodyBytes.length});
      }
      wire.writeBytes(bodyBytes);
    } else {
      int at = 0;
      for (int i = 0; at < bodyBytes.length; i++) {
        int size = i < chunkSizes.length ? Math.min(chunkSizes[i], bodyBytes.length - at) : bodyBytes.length - at;
        wire.writeBytes((Integer.toHexString(size) + "\r\n").getBytes(ISO_8859_1));
        data.add(new int[] {wire.size(), wire.size() + size});
        wire.write(bodyBytes, at, size);
        wire.writeBytes("\r\n".getBytes(ISO_8859_1));
        at += size;
      }
      wire.writeBytes("0\r\n".getBytes(ISO_8859_1));
      for (String t : trailers) {
        wire.writeBytes((t + "\r\n").getBytes(ISO_8859_1));
        int colon = t.indexOf(':');
        trailerFields.add(new HeaderField(t.substring(0, colon), t.substring(colon + 1).trim()));
      }
      wire.writeBytes("\r\n".getBytes(ISO_8859_1));
    }
    byte[] bytes = wire.toByteArray();
    WireReading expected = WireReading.of(bytes, requestMethod);
    if (!(expected instanceof WireReading.Parsed parsed) || !java.util.Arrays.equals(parsed.body(), bodyBytes)
        || !parsed.trailers().equals(Headers.of(trailerFields))) {
      throw new AssertionError("corpus sample \"" + name + "\" does not read as written: " + expected);
    }
    return new Sample(name, requestMethod, bytes, expected, data);
  }
}
