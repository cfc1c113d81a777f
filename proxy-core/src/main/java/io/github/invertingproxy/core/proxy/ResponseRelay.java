package io.github.invertingproxy.core.proxy;

import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.ResponseHead;
import io.github.invertingproxy.core.PlainText;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntConsumer;
import javax.servlet.http.HttpServletResponse;

/**
 * Copies an agent's serialized response onto the client's servlet response as it arrives: status,
 * end-to-end headers, body, trailers. When the agent's stream breaks after the client's response has
 * begun, the relay fails the client's response instead of ending it cleanly, so that a truncated body
 * is never mistaken for a whole one.
 */
final class ResponseRelay {
  /**
   * The most copied in one piece; a piece costs a read, a write and a flush. As large as the stand-alone
   * server's Jetty buffers, so that a piece leaves in one write.
   */
  private static final int MAX_PIECE = 32 * 1024;

  /** Raised when the agent's side broke off mid-relay; the container then aborts the client's connection. */
  static final class AgentStreamBroken extends IOException {
    AgentStreamBroken(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Completes a WebSocket upgrade that the agent answered with {@code 101}; returns the client's status. */
  interface Upgrade {
    int accept(ResponseHead agentHead) throws IOException;
  }

  private ResponseRelay() {}

  /** Relays and reports the outcome to {@code response}; returns the status the client got and bytes sent. */
  static long[] relay(AgentResponse response, String requestMethod, MessageLimits limits,
      HttpServletResponse client, IntConsumer begun) throws IOException {
    return relay(response, requestMethod, limits, client, null, begun);
  }

  /**
   * Like {@link #relay(AgentResponse, String, MessageLimits, HttpServletResponse, IntConsumer)}; a
   * {@code 101} answer goes to {@code upgrade}, or is refused (502) when the request asked for no upgrade.
   *
   * @param begun told the agent's status once its response head is read and valid
   */
  static long[] relay(AgentResponse response, String requestMethod, MessageLimits limits,
      HttpServletResponse client, Upgrade upgrade, IntConsumer begun) throws IOException {
    IncomingMessage<ResponseHead> message;
    try {
      message = MessageReader.readResponse(response.stream(), requestMethod, limits);
    } catch (MalformedMessageException e) {
      response.finished(ResponseOutcome.MALFORMED);
      PlainText.send(client, 502, "Bad gateway: the agent's response is not a valid HTTP response (" + e.getMessage() + ")");
      return new long[] {502, 0};
    } catch (IOException e) {
      response.finished(ResponseOutcome.TRUNCATED);
      PlainText.send(client, 502, "Bad gateway: the agent's response broke off before its head was complete");
      return new long[] {502, 0};
    }
    ResponseHead head = message.head();
    if (head.status() != 101 || upgrade != null) {
      begun.accept(head.status());
    }
    if (head.status() == 101) {
      if (upgrade == null) {
        response.finished(ResponseOutcome.MALFORMED);
        PlainText.send(client, 502, "Bad gateway: the agent answered 101 Switching Protocols to a request that asked for no upgrade");
        return new long[] {502, 0};
      }
      int status;
      try {
        status = upgrade.accept(head);
      } catch (IOException | RuntimeException e) {
        response.finished(ResponseOutcome.CLIENT_GONE);
        throw e;
      }
      response.finished(status == 101 ? ResponseOutcome.RELAYED : ResponseOutcome.CLIENT_GONE);
      return new long[] {status, 0};
    }
    forwardHead(head, message, client);
    return relayBody(response, message, client);
  }

  /** The agent's status and end-to-end fields, to the client; a chunked body's trailers follow it. */
  private static void forwardHead(ResponseHead head, IncomingMessage<ResponseHead> message, HttpServletResponse client) {
    client.setStatus(head.status());
    Headers forwarded = endToEnd(head.headers());
    if (head.status() == 204) {
      // RFC 9110 section 8.6: a 204 carries no Content-Length; the container refuses to send one.
      forwarded = forwarded.without(f -> f.is("Content-Length"));
    }
    for (HeaderField f : forwarded) {
      client.addHeader(f.name(), f.value());
    }
    if (!forwarded.contains("Date")) {
      // RFC 9110 section 6.6.1: a recipient with a clock dates a forwarded response that has no Date.
      client.setDateHeader("Date", System.currentTimeMillis());
    }
    if (message.framing() instanceof BodyFraming.Chunked) {
      client.setTrailerFields(() -> trailerMap(message.trailers()));
    }
  }

  /**
   * Copies the body to the client and reports the outcome to {@code response}; before the client has
   * anything, an agent's body that breaks off is answered with 502 instead.
   */
  private static long[] relayBody(AgentResponse response, IncomingMessage<ResponseHead> message,
      HttpServletResponse client) throws IOException {
    long bytes = 0;
    InputStream in = message.body();
    OutputStream out;
    try {
      out = client.getOutputStream();
    } catch (IOException e) {
      response.finished(ResponseOutcome.CLIENT_GONE);
      throw e;
    }
    // A whole response goes out in one write, never waiting for the client (see AgentResponse#whole).
    boolean whole = response.whole();
    byte[] buffer = whole ? null : new byte[message.framing().copyBufferSize(MAX_PIECE)];
    while (true) {
      int n;
      try {
        if (!whole) {
          n = in.read(buffer);
        } else if (buffer == null) {
          buffer = in.readAllBytes();
          n = buffer.length == 0 ? -1 : buffer.length;
        } else {
          n = -1;
        }
      } catch (IOException e) {
        response.finished(e instanceof MalformedMessageException ? ResponseOutcome.MALFORMED : ResponseOutcome.TRUNCATED);
        if (!client.isCommitted()) {
          client.reset();
          PlainText.send(client, 502, "Bad gateway: the agent's response broke off: " + e.getMessage());
          return new long[] {502, bytes};
        }
        throw new AgentStreamBroken("agent's response broke off after " + bytes + " body bytes", e);
      }
      if (n < 0) {
        break;
      }
      try {
        out.write(buffer, 0, n);
        // Flush whenever the agent has nothing more buffered, so that streamed responses stay live.
        if (!whole && in.available() <= 0) {
          out.flush();
        }
      } catch (IOException e) {
        response.finished(ResponseOutcome.CLIENT_GONE);
        throw e;
      }
      bytes += n;
    }
    try {
      if (!whole) {
        out.flush();
      }
    } catch (IOException e) {
      response.finished(ResponseOutcome.CLIENT_GONE);
      throw e;
    }
    response.finished(ResponseOutcome.RELAYED);
    return new long[] {message.head().status(), bytes};
  }

  /** Hop-by-hop fields and the agent protocol's own headers are for this proxy, never for the client. */
  private static Headers endToEnd(Headers fields) {
    return HopByHopHeaders.strip(fields).without(f -> ProtocolHeaders.isProtocolHeader(f.name()));
  }

  private static Map<String, String> trailerMap(Headers trailers) {
    Map<String, String> map = new HashMap<>();
    for (HeaderField f : endToEnd(trailers)) {
      map.merge(f.name(), f.value(), (a, b) -> a + ", " + b);
    }
    return map;
  }
}
