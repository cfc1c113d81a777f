package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;

import io.github.invertingproxy.appengine.ExchangeEntity.State;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One agent's call that brings a response into {@link DatastoreExchangeStore}: the response is parsed
 * while it is stored, in parts of this call's own ({@code upload}), and then committed to its exchange
 * unless another call for the same exchange won, or the client went away. A malformed or too large
 * response is stored as a 502 for the client instead. Runs inside a {@link Persistence#begin} context.
 */
final class ResponseUpload {
  // Logs under the name of the store it works for.
  private static final Logger LOG = Logger.getLogger(DatastoreExchangeStore.class.getName());

  private final SharedCache cache;
  private final ExchangeSettings settings;
  private final String backendId;
  private final String requestId;
  /** The request's method: the response to a HEAD has no body. */
  private final String method;
  private final String upload;
  private final Date now;

  ResponseUpload(SharedCache cache, ExchangeSettings settings, ExchangeEntity exchange, String upload, Date now) {
    this.cache = cache;
    this.settings = settings;
    this.backendId = exchange.backendId;
    this.requestId = exchange.id;
    this.method = exchange.method;
    this.upload = upload;
    this.now = now;
  }

  /**
   * Stores {@code response} and commits it: RELAYED, or MALFORMED when a 502 stands in for it;
   * TRUNCATED when the upload broke off (the exchange stays open for the agent's retry).
   */
  ResponseOutcome store(InputStream response) throws IOException {
    BodyPartWriter parts = newParts();
    ResponseOutcome outcome = ResponseOutcome.RELAYED;
    String problem = null;
    try {
      // Parse while storing: the stored bytes are exactly what the agent sent, and they are
      // known to form one complete HTTP response.
      IncomingMessage<ResponseHead> message =
          MessageReader.readResponse(new Tee(response, parts), method, settings.messageLimits());
      message.body().transferTo(OutputStream.nullOutputStream());
      message.trailers();
      parts.close();
    } catch (IOException x) {
      if (parts.tooLarge()) {
        outcome = ResponseOutcome.MALFORMED;
        problem = "the backend's response is larger than App Engine's limit of "
            + settings.maxMessageBytes() + " bytes";
      } else if (x instanceof MalformedMessageException) {
        outcome = ResponseOutcome.MALFORMED;
        problem = "the agent's response is not a valid HTTP response: " + x.getMessage();
      } else {
        brokeOff(parts, x);
        return ResponseOutcome.TRUNCATED;
      }
    }
    if (problem != null) {
      // The client would otherwise wait for a response that never comes: answer it with 502 now.
      LOG.log(Level.WARNING, "exchange " + requestId + " of backend " + backendId + ": " + problem);
      parts.discard();
      parts = newParts();
      parts.write(badGateway(problem, method));
      parts.close();
    }
    return commit(parts, outcome);
  }

  private BodyPartWriter newParts() {
    return new BodyPartWriter(cache, settings, requestId, MessageKind.RESPONSE, upload, now);
  }

  /** The agent's upload broke off; it retries such calls, so leave the exchange open for that. */
  private void brokeOff(BodyPartWriter parts, IOException x) throws IOException {
    LOG.log(Level.INFO, "response for " + requestId + " broke off: " + x);
    parts.discard();
    ExchangeEntity latest = Persistence.run(() -> ofy().load().key(ExchangeEntity.key(requestId)).now());
    if (latest != null && latest.state == State.TAKEN) { // unless a retry stored the response meanwhile
      cache.put(CacheKeys.exchange(requestId), ExchangeMarker.WAITING, settings.cacheLifetime());
    }
  }

  /** Makes the stored parts the exchange's response, unless it has one already or is gone. */
  private ResponseOutcome commit(BodyPartWriter parts, ResponseOutcome outcome) {
    int partCount = parts.parts();
    long length = parts.length();
    ResponseOutcome committed = ofy().transact(() -> {
      ExchangeEntity current = ofy().load().key(ExchangeEntity.key(requestId)).now();
      if (current == null || current.state == State.FINISHED) {
        return ResponseOutcome.CLIENT_GONE;
      }
      if (current.state == State.RESPONDED) {
        return ResponseOutcome.NO_WAITING_CLIENT; // another call for the same id won
      }
      current.state = State.RESPONDED;
      current.responseParts = partCount;
      current.responseLength = length;
      current.responseUpload = upload;
      ofy().save().entity(current).now();
      return null;
    });
    if (committed != null) {
      parts.discard(); // nobody will read them
      return committed;
    }
    cache.put(CacheKeys.exchange(requestId), ExchangeMarker.responded(partCount, upload), settings.cacheLifetime());
    return outcome;
  }

  private static byte[] badGateway(String problem, String method) {
    byte[] body = (problem + "\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
        + body.length + "\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.ISO_8859_1);
    if ("HEAD".equalsIgnoreCase(method)) {
      return headBytes;
    }
    byte[] all = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(body, 0, all, headBytes.length, body.length);
    return all;
  }

  /** Copies every byte the parser reads into the parts being stored. */
  private static final class Tee extends FilterInputStream {
    private final OutputStream copy;

    Tee(InputStream in, OutputStream copy) {
      super(in);
      this.copy = copy;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        copy.write(b);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        copy.write(b, off, n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buffer = new byte[(int) Math.min(n, 8192)];
      int read = read(buffer, 0, buffer.length);
      return Math.max(read, 0);
    }
  }
}
