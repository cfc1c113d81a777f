package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.impl.BasicHttpTransportMetrics;
import org.apache.hc.core5.http.impl.io.ChunkedOutputStream;
import org.apache.hc.core5.http.impl.io.SessionOutputBufferImpl;
import org.apache.hc.core5.http.message.BasicHeader;

/**
 * Writes HTTP/1.1 messages in wire format: heads as plain lines, bodies framed by
 * {@link BodyFraming} (chunks and trailers through httpcore5's chunked coder).
 */
public final class MessageWriter {
  private static final int CHUNK_SIZE = 32 * 1024;

  private MessageWriter() {}

  public static void writeHead(OutputStream out, RequestHead head) throws IOException {
    StringBuilder b = new StringBuilder(256);
    b.append(head.method()).append(' ').append(head.target()).append(" HTTP/1.1\r\n");
    appendFields(b, head.headers());
    out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  public static void writeHead(OutputStream out, ResponseHead head) throws IOException {
    StringBuilder b = new StringBuilder(256);
    b.append("HTTP/1.1 ").append(head.status()).append(' ').append(head.reason()).append("\r\n");
    appendFields(b, head.headers());
    out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  /**
   * A stream for the body that follows a head, framed as {@code framing} says. Closing it ends the
   * body (the last chunk and {@code trailers} for chunked framing) but leaves {@code out} open.
   * A {@link BodyFraming.Length} body refuses to write more than its length, and closing it short
   * fails.
   */
  public static OutputStream openBody(OutputStream out, BodyFraming framing, Supplier<Headers> trailers) {
    requireNonNull(out, "out");
    requireNonNull(framing, "framing");
    requireNonNull(trailers, "trailers");
    if (framing instanceof BodyFraming.Chunked) {
      // Trailer lines are encoded as heads are (ISO-8859-1, byte for byte): without an encoder,
      // httpcore5 writes DEL and 0x80-0x9f as '?', so a trailer would not survive being relayed.
      CharsetEncoder latin1 = StandardCharsets.ISO_8859_1.newEncoder()
          .onUnmappableCharacter(CodingErrorAction.REPLACE).onMalformedInput(CodingErrorAction.REPLACE);
      SessionOutputBufferImpl buffer = new SessionOutputBufferImpl(new BasicHttpTransportMetrics(), 8192, 0, latin1);
      return new ChunkedOutputStream(buffer, out, CHUNK_SIZE, () -> toHttpCore(trailers.get()));
    }
    if (framing instanceof BodyFraming.Length l) {
      return new ExactLengthStream(out, l.length());
    }
    if (framing instanceof BodyFraming.UntilClose) {
      return new FilterOutputStream(out) {
        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
          out.flush();
        }
      };
    }
    return new ExactLengthStream(out, 0);
  }

  private static List<Header> toHttpCore(Headers headers) {
    List<Header> list = new ArrayList<>(headers.size());
    for (HeaderField f : headers) {
      list.add(new BasicHeader(f.name(), f.value()));
    }
    return list;
  }

  private static void appendFields(StringBuilder b, Headers headers) {
    for (HeaderField f : headers) {
      b.append(f.name()).append(": ").append(f.value()).append("\r\n");
    }
    b.append("\r\n");
  }

  private static final class ExactLengthStream extends FilterOutputStream {
    private final long length;
    private long written;
    private boolean closed;

    ExactLengthStream(OutputStream out, long length) {
      super(out);
      this.length = length;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (written + len > length) {
        throw new IOException("body is longer than its declared length of " + length + " bytes");
      }
      out.write(b, off, len);
      written += len;
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      out.flush();
      if (written != length) {
        throw new IOException("body ended after " + written + " of its declared " + length + " bytes");
      }
    }
  }
}
