package io.github.invertingproxy.agent.backend;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.message.BasicHeader;

/**
 * The client's request body as it arrives from the proxy, streamed to the backend in the request's
 * own framing: the same length, or chunked with the same trailers. Never buffered whole.
 */
final class StreamedRequestBody implements HttpEntity {
  private static final int BUFFER_SIZE = 32 * 1024;

  private final IncomingMessage<RequestHead> request;
  private long bytes;
  private boolean complete;

  StreamedRequestBody(IncomingMessage<RequestHead> request) {
    this.request = request;
  }

  /** True once the whole body, trailers included, has been read from the proxy. */
  boolean complete() {
    return complete;
  }

  long bytes() {
    return bytes;
  }

  @Override
  public void writeTo(OutputStream out) throws IOException {
    InputStream in = request.body();
    byte[] buffer = new byte[BUFFER_SIZE];
    while (true) {
      int n;
      try {
        n = in.read(buffer);
      } catch (IOException e) {
        throw new ProxyReadException(e);
      }
      if (n < 0) {
        break;
      }
      out.write(buffer, 0, n);
      bytes += n;
      // A client that uploads progressively (a streamed POST) reaches the backend as it goes.
      out.flush();
    }
    complete = true;
  }

  @Override
  public long getContentLength() {
    return request.framing() instanceof BodyFraming.Length l ? l.length() : -1;
  }

  @Override
  public boolean isChunked() {
    return request.framing() instanceof BodyFraming.Chunked;
  }

  @Override
  public org.apache.hc.core5.function.Supplier<List<? extends Header>> getTrailers() {
    if (!isChunked()) {
      return null;
    }
    // Asked by the chunked coder after the body is written, when the trailers have arrived.
    return () -> {
      List<Header> trailers = new ArrayList<>();
      for (HeaderField f : request.trailers()) {
        trailers.add(new BasicHeader(f.name(), f.value()));
      }
      return trailers;
    };
  }

  @Override
  public boolean isRepeatable() {
    return false;
  }

  @Override
  public boolean isStreaming() {
    return true;
  }

  @Override
  public InputStream getContent() {
    throw new UnsupportedOperationException("the body streams through writeTo only");
  }

  @Override
  public String getContentType() {
    return null;
  }

  @Override
  public String getContentEncoding() {
    return null;
  }

  @Override
  public Set<String> getTrailerNames() {
    return Set.of();
  }

  @Override
  public void close() {}

  /** Reading the body from the proxy failed: the proxy's fault, not the backend's. */
  static final class ProxyReadException extends IOException {
    ProxyReadException(IOException cause) {
      super("reading the request body from the proxy failed: " + cause.getMessage(), cause);
    }
  }
}
