package io.github.invertingproxy.protocol;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import org.apache.hc.core5.http.ConnectionClosedException;

/**
 * What one reading of a wire message gave: the whole message, a refusal of the documented kind, or a
 * fault (any other exception: a bug in the reader).
 */
sealed interface WireReading {
  /** A message read to its end. {@code head} is a {@link RequestHead} or a {@link ResponseHead}. */
  record Parsed(Object head, BodyFraming framing, byte[] body, Headers trailers) implements WireReading {
    @Override
    public boolean equals(Object o) {
      return o instanceof Parsed p && p.head.equals(head) && p.framing.equals(framing) && Arrays.equals(p.body, body)
          && p.trailers.equals(trailers);
    }

    @Override
    public int hashCode() {
      return head.hashCode() * 31 + Arrays.hashCode(body);
    }

    @Override
    public String toString() {
      return "Parsed[" + head + ", " + framing + ", body of " + body.length + " bytes, trailers " + trailers + "]";
    }

    /** The message written back in wire format by {@link MessageWriter}. */
    byte[] write() throws IOException {
      ByteArrayOutputStream wire = new ByteArrayOutputStream();
      if (head instanceof RequestHead r) {
        MessageWriter.writeHead(wire, r);
      } else {
        MessageWriter.writeHead(wire, (ResponseHead) head);
      }
      try (OutputStream out = MessageWriter.openBody(wire, framing, () -> trailers)) {
        out.write(body);
      }
      return wire.toByteArray();
    }
  }

  /**
   * The input was refused: {@link MalformedMessageException} for a bad head or body, or
   * {@link ConnectionClosedException} for a body cut short (the input ended before its framing did).
   */
  record Refused(String stage, IOException reason) implements WireReading {
    @Override
    public String toString() {
      return "Refused[" + stage + ": " + reason + "]";
    }
  }

  /** Any other exception: the reader failed in a way callers are not told to expect. */
  record Fault(String stage, Throwable error) implements WireReading {
    @Override
    public String toString() {
      return "Fault[" + stage + ": " + error + "]";
    }
  }

  /** Reads a request ({@code requestMethod} null) or a response from the whole of {@code wire}. */
  static WireReading of(byte[] wire, String requestMethod) {
    return of(new ByteArrayInputStream(wire), requestMethod);
  }

  static WireReading of(InputStream in, String requestMethod) {
    String stage = "head";
    try {
      IncomingMessage<?> m = requestMethod == null ? MessageReader.readRequest(in, MessageLimits.DEFAULT)
          : MessageReader.readResponse(in, requestMethod, MessageLimits.DEFAULT);
      stage = "body";
      byte[] body = m.body().readAllBytes();
      stage = "trailers";
      Headers trailers = m.trailers();
      return new Parsed(m.head(), m.framing(), body, trailers);
    } catch (MalformedMessageException e) {
      return new Refused(stage, e);
    } catch (ConnectionClosedException e) {
      return stage.equals("head") ? new Fault(stage, e) : new Refused(stage, e);
    } catch (Exception | StackOverflowError e) {
      return new Fault(stage, e);
    }
  }
}
