package io.github.invertingproxy.agent.http;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;

/**
 * The body of {@code agent/response}: the backend's response in HTTP/1.1 wire format, written as the
 * backend's bytes arrive and flushed whenever the next read might wait, so that a slow or endless
 * response (server-sent events) reaches the client as it is produced, while one that is already
 * there (a small response's head, body and end) goes to the proxy in one write.
 */
public final class SerializedResponse implements HttpEntity {
  /**
   * The most read from the backend and posted to the proxy in one piece: every piece costs the proxy a
   * read, a write and a flush, so large bodies go in large pieces.
   */
  private static final int MAX_PIECE = 128 * 1024;

  private final ResponseHead head;
  private final BodyFraming framing;
  private final InputStream body;
  private final byte[] fixedBody;
  private final Supplier<Headers> trailers;
  /**
   * The body's {@code available()} counts only bytes already read from the backend, so a read is
   * sure not to wait while it is positive. Not so for decoders (an inflater says 1 until its end).
   */
  private final boolean availableIsBuffered;
  private volatile Runnable onFailure = () -> {};
  private boolean bodyStarted;
  private boolean complete;
  private long bytes;

  /**
   * @param body the backend's body with its transfer coding removed; read to its end
   * @param trailers the backend's trailers, asked for once the body has ended
   */
  public SerializedResponse(ResponseHead head, BodyFraming framing, InputStream body, Supplier<Headers> trailers) {
    this(head, framing, body, trailers, false);
  }

  /**
   * @param availableIsBuffered whether {@code body.available()} counts only bytes already received,
   *     as for the backend connection's own body stream; then the response is flushed only when
   *     nothing more is at hand, else after every read
   */
  public SerializedResponse(ResponseHead head, BodyFraming framing, InputStream body, Supplier<Headers> trailers,
      boolean availableIsBuffered) {
    this.head = requireNonNull(head, "head");
    this.framing = requireNonNull(framing, "framing");
    this.body = requireNonNull(body, "body");
    this.trailers = requireNonNull(trailers, "trailers");
    this.fixedBody = null;
    this.availableIsBuffered = availableIsBuffered;
  }

  /** A response held whole in memory: {@code framing} is none, or the body's length. */
  private SerializedResponse(ResponseHead head, BodyFraming framing, byte[] fixedBody) {
    this.head = head;
    this.framing = framing;
    this.body = null;
    this.trailers = Headers::empty;
    this.fixedBody = fixedBody;
    this.availableIsBuffered = true;
  }

  /**
   * A small response that the backend sent whole (read by the backend selector): its end-to-end fields, and
   * the body framed by its length as the backend's Content-Length did.
   */
  public static SerializedResponse whole(SmallResponseReader.Result response, byte[] body) {
    Headers headers = HopByHopHeaders.strip(response.headers());
    BodyFraming framing = body.length == 0 ? BodyFraming.NONE : new BodyFraming.Length(body.length);
    return new SerializedResponse(new ResponseHead(response.status(), response.reason(), headers), framing,
        new ByteArrayInputStream(body), Headers::empty, true);
  }

  /** A response the agent makes itself, such as a 502 when the backend cannot be reached. */
  public static SerializedResponse ofText(int status, String reason, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    Headers headers = Headers.of(
        "Content-Type", "text/plain; charset=utf-8",
        "Content-Length", Integer.toString(bytes.length),
        "X-Content-Type-Options", "nosniff");
    return new SerializedResponse(new ResponseHead(status, reason, headers), new BodyFraming.Length(bytes.length),
        bytes);
  }

  public ResponseHead head() {
    return head;
  }

  /** The same body under another head with the same framing, such as one with other cookies. */
  public SerializedResponse withHead(ResponseHead newHead) {
    if (fixedBody != null) {
      throw new IllegalStateException("a response made by the agent is not rewritten");
    }
    return new SerializedResponse(newHead, framing, body, trailers, availableIsBuffered);
  }

  /**
   * Another head and body in place of this response's, such as a page with a banner; the backend's
   * trailers follow only a chunked body.
   */
  public SerializedResponse withBody(ResponseHead newHead, BodyFraming newFraming, InputStream newBody) {
    if (fixedBody != null) {
      throw new IllegalStateException("a response made by the agent is not rewritten");
    }
    Supplier<Headers> newTrailers = newFraming instanceof BodyFraming.Chunked ? trailers : Headers::empty;
    return new SerializedResponse(newHead, newFraming, newBody, newTrailers);
  }

  /**
   * Whether the response is complete and small: no body, or a body of known length of at most
   * {@code maxBodyBytes} (what may go back in one channel frame). Chunked and until-close bodies never are.
   */
  public boolean fitsWhole(int maxBodyBytes) {
    return framing.knownAtMost(maxBodyBytes);
  }

  /**
   * This response held in memory, its body read to the end from the backend: for a response that
   * {@link #fitsWhole} only. The result can be written any number of times ({@link #toByteArray}, or
   * posted); a response made by the agent is returned as it is.
   *
   * @throws IOException when the backend's body breaks off or ends early
   */
  public SerializedResponse readWhole() throws IOException {
    if (fixedBody != null) {
      return this;
    }
    if (!framing.knownAtMost(Integer.MAX_VALUE - 8)) {
      throw new IllegalStateException("a response of unknown or huge length is not read into memory");
    }
    long length = framing instanceof BodyFraming.Length l ? l.length() : 0;
    byte[] read;
    try {
      read = body.readNBytes((int) length);
      // One more read sees the end (the length is all there is): that is what lets the backend's
      // connection be kept for the next request.
      body.read();
    } finally {
      // Frees a decoder's native memory at once; the backend's own stream ignores close.
      closeQuietly(body);
    }
    if (read.length < length) {
      throw new IOException("backend's body ended after " + read.length + " of " + length + " bytes");
    }
    return new SerializedResponse(head, framing, read);
  }

  /** The whole response in HTTP/1.1 wire format; for a response held in memory ({@link #readWhole}) only. */
  public byte[] toByteArray() {
    if (fixedBody == null) {
      throw new IllegalStateException("the response is not held in memory");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(fixedBody.length + 512);
    try {
      writeTo(out);
    } catch (IOException e) {
      // Writing memory to memory does not fail.
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The body still to be sent, its transfer coding removed; null for a response made by the agent. */
  public InputStream body() {
    return body;
  }

  /** Runs when the body fails half-way, before the outer chunked coding can end cleanly. */
  public void onFailure(Runnable action) {
    this.onFailure = requireNonNull(action, "action");
  }

  /** True while writing may start over: nothing was read from the backend's body yet. */
  public synchronized boolean canRetry() {
    return fixedBody != null || !bodyStarted;
  }

  /** True once the whole response, trailers included, has been written. */
  synchronized boolean complete() {
    return complete;
  }

  /** Body bytes written (the last attempt's, for a response made by the agent). */
  public synchronized long bytes() {
    return bytes;
  }

  @Override
  public void writeTo(OutputStream out) throws IOException {
    synchronized (this) {
      bytes = 0;
    }
    try {
      MessageWriter.writeHead(out, head);
      InputStream in = fixedBody != null ? new ByteArrayInputStream(fixedBody) : body;
      boolean hasBody = !(framing instanceof BodyFraming.None)
          && !(framing instanceof BodyFraming.Length l && l.length() == 0);
      // The head goes out at once unless the body is already here (or there is none, and the end
      // follows): the client sees the status before a slow body starts.
      if (hasBody && !atHand(in)) {
        out.flush();
      }
      OutputStream framed = MessageWriter.openBody(out, framing, trailers);
      if (hasBody) {
        synchronized (this) {
          bodyStarted = true;
        }
        byte[] buffer = new byte[framing.copyBufferSize(MAX_PIECE)];
        long length = framing instanceof BodyFraming.Length l ? l.length() : -1;
        long sent = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
          framed.write(buffer, 0, n);
          sent += n;
          // Flush before a read that may wait; a body that has all arrived ends with the message.
          if (sent != length && !atHand(in)) {
            framed.flush();
          }
          synchronized (this) {
            bytes += n;
          }
        }
      }
      framed.close();
      out.flush();
      synchronized (this) {
        complete = true;
      }
    } catch (IOException | RuntimeException e) {
      // Cut the call off so that the proxy sees a broken message, never a clean end of a short one.
      onFailure.run();
      throw e;
    } finally {
      if (body != null && !canRetry()) {
        // Frees a decoder's native memory at once; the backend's own stream ignores close.
        closeQuietly(body);
      }
    }
  }

  /** True when the next read from {@code in} surely returns without waiting for the backend. */
  private boolean atHand(InputStream in) throws IOException {
    return availableIsBuffered && in.available() > 0;
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // Nothing more to free.
    }
  }

  @Override
  public long getContentLength() {
    return -1;
  }

  @Override
  public boolean isChunked() {
    return true;
  }

  @Override
  public String getContentType() {
    return "text/plain";
  }

  @Override
  public String getContentEncoding() {
    return null;
  }

  @Override
  public boolean isRepeatable() {
    return canRetry();
  }

  @Override
  public boolean isStreaming() {
    return fixedBody == null;
  }

  @Override
  public InputStream getContent() {
    throw new UnsupportedOperationException("the response streams through writeTo only");
  }

  @Override
  public org.apache.hc.core5.function.Supplier<List<? extends Header>> getTrailers() {
    return null;
  }

  @Override
  public Set<String> getTrailerNames() {
    return Set.of();
  }

  @Override
  public void close() {}
}
