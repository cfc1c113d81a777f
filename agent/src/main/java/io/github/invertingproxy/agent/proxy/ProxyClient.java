package io.github.invertingproxy.agent.proxy;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.http.ConnectionPool;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.AgentPaths;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.PendingRequestIds;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;
import org.apache.hc.core5.http.protocol.HttpCoreContext;

/**
 * The agent's three calls to the proxy (PROTOCOL.md): {@code agent/pending}, {@code agent/request}
 * and {@code agent/response}, over pooled keep-alive connections. The last two are retried up to
 * twice on network errors and 5xx answers, as by the original agent.
 */
public final class ProxyClient {
  private static final Logger LOG = Logger.getLogger(ProxyClient.class.getName());
  static final int MAX_RETRIES = 2;
  /** The original truncates a pending list at 1 MB too; a real one is a few ids. */
  private static final int MAX_PENDING_BYTES = 1024 * 1024;
  private static final String USER_AGENT = "inverting-proxy-agent-java";

  private final Origin.ProxyBase base;
  private final String backendId;
  private final ProxyCredentials credentials;
  private final ConnectionPool pool;
  private final HttpRequestExecutor executor;
  private final Duration timeout;
  private volatile ConnectionPool.Lease currentPoll;
  private volatile String features;

  public ProxyClient(Origin.ProxyBase base, String backendId, ProxyCredentials credentials, ConnectionPool pool,
      HttpRequestExecutor executor, Duration timeout) {
    this.base = requireNonNull(base, "base");
    this.backendId = requireNonNull(backendId, "backendId");
    this.credentials = requireNonNull(credentials, "credentials");
    this.pool = requireNonNull(pool, "pool");
    this.executor = requireNonNull(executor, "executor");
    this.timeout = requireNonNull(timeout, "timeout");
  }

  /**
   * A poll's answer: the ids the proxy lists, possibly none, and the extensions it offers in
   * {@code X-Inverting-Proxy-Agent-Features} (null when it offers none, as the original never does).
   */
  public record Pending(List<String> ids, String offered) {
    public Pending {
      ids = List.copyOf(ids);
    }

    /** Whether the proxy offers {@code feature}, such as {@link AgentFeatures#CHANNEL}. */
    public boolean offers(String feature) {
      return AgentFeatures.lists(offered, feature);
    }
  }

  /** One long poll. Not retried here; the poll loop backs off. */
  public Pending pending() throws IOException {
    ClassicHttpRequest call = call("GET", AgentPaths.PENDING);
    String announced = features;
    if (announced != null) {
      call.addHeader(AgentFeatures.HEADER, announced);
    }
    ConnectionPool.Lease lease = pool.lease();
    currentPoll = lease;
    int status;
    byte[] body;
    String offered;
    try {
      lease.setSocketTimeout(timeout);
      HttpCoreContext context = HttpCoreContext.create();
      ClassicHttpResponse response = execute(call, lease, context);
      status = response.getCode();
      offered = header(response, AgentFeatures.HEADER);
      body = readAtMost(response.getEntity(), MAX_PENDING_BYTES, lease);
      lease.release(executor.keepAlive(call, response, lease.connection(), context));
    } catch (IOException | RuntimeException e) {
      lease.discard();
      throw e;
    } finally {
      currentPoll = null;
    }
    if (body == null) {
      throw new IOException("proxy's answer to agent/pending is longer than " + MAX_PENDING_BYTES + " bytes");
    }
    if (status != 200) {
      throw new IOException("proxy answered " + status + " to agent/pending" + describeBody(body));
    }
    try {
      return new Pending(PendingRequestIds.parse(new String(body, StandardCharsets.UTF_8)), offered);
    } catch (IllegalArgumentException e) {
      throw new IOException("proxy sent an unusable agent/pending answer: " + e.getMessage(), e);
    }
  }

  /** Announces these feature tokens ({@code X-Inverting-Proxy-Agent-Features}) on every poll; null for none. */
  public void announceFeatures(String tokens) {
    this.features = tokens;
  }

  /** Ends a long poll in progress, so that shutting down need not wait for the proxy's answer. */
  public void abortPoll() {
    ConnectionPool.Lease lease = currentPoll;
    if (lease != null) {
      lease.discard();
    }
  }

  /**
   * Reads the client request {@code id} from the proxy. The request body is left on the connection,
   * to stream on to the backend; close the result when done with it.
   *
   * @throws IOException when the proxy does not answer 200 with a parseable request and a valid
   *     start time after the retries
   */
  public FetchedRequest fetchRequest(String id) throws IOException {
    Backoff backoff = new Backoff();
    for (int attempt = 0; ; attempt++) {
      ClassicHttpRequest call = call("GET", AgentPaths.REQUEST);
      call.addHeader(ProtocolHeaders.REQUEST_ID, id);
      ConnectionPool.Lease lease;
      ClassicHttpResponse response;
      HttpCoreContext context = HttpCoreContext.create();
      try {
        lease = pool.lease();
      } catch (IOException e) {
        if (attempt < MAX_RETRIES) {
          retryAfter(backoff, "agent/request", id, e.getMessage());
          continue;
        }
        throw e;
      }
      int status;
      byte[] body = null;
      try {
        lease.setSocketTimeout(timeout);
        response = execute(call, lease, context);
        status = response.getCode();
        if (status != 200) {
          body = readAtMost(response.getEntity(), 4096, lease);
          lease.release(executor.keepAlive(call, response, lease.connection(), context));
        }
      } catch (IOException e) {
        lease.discard();
        if (attempt < MAX_RETRIES) {
          retryAfter(backoff, "agent/request", id, e.getMessage());
          continue;
        }
        throw e;
      }
      if (status != 200) {
        if (status >= 500 && attempt < MAX_RETRIES) {
          retryAfter(backoff, "agent/request", id, "status " + status);
          continue;
        }
        throw new IOException("proxy answered " + status + " to agent/request"
            + (status == 404 ? " (unknown or expired request id)" : "") + describeBody(body));
      }
      return readRequest(id, "agent/request", call, response, lease, context);
    }
  }

  /**
   * Reads the head of the client request an answer carries ({@code agent/request}'s, or an
   * {@code agent/response} answer with the next request); its body stays on the connection, which
   * the result holds.
   */
  private FetchedRequest readRequest(String id, String answerTo, ClassicHttpRequest call,
      ClassicHttpResponse response, ConnectionPool.Lease lease, HttpCoreContext context) throws IOException {
    try {
      Instant startTime = RequestStartTime.parse(header(response, ProtocolHeaders.REQUEST_START_TIME));
      String user = header(response, ProtocolHeaders.USER_ID);
      HttpEntity entity = response.getEntity();
      InputStream outer = entity == null ? InputStream.nullInputStream() : entity.getContent();
      IncomingMessage<RequestHead> message = MessageReader.readRequest(outer, MessageLimits.DEFAULT);
      return new FetchedRequest(id, user == null ? "" : user, startTime, message,
          bodyConsumed -> release(lease, outer, bodyConsumed, call, response, context));
    } catch (IllegalArgumentException e) {
      // The original fails a request without a usable start time; so do we.
      lease.discard();
      throw new IOException("proxy's " + answerTo + " answer is unusable: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      lease.discard();
      throw e;
    }
  }

  /**
   * Gives the connection of a request's answer back: for reuse when the whole answer was read, else
   * closed, because draining an unread body could take as long as the body is.
   */
  private void release(ConnectionPool.Lease lease, InputStream answer, boolean bodyConsumed, ClassicHttpRequest call,
      ClassicHttpResponse response, HttpCoreContext context) {
    if (!bodyConsumed) {
      lease.discard();
      return;
    }
    try {
      // The serialized request ended; only the end of the proxy's own framing may still be unread.
      if (answer.read() != -1) {
        lease.discard();
        return;
      }
      answer.close();
      lease.release(executor.keepAlive(call, response, lease.connection(), context));
    } catch (IOException e) {
      lease.discard();
    }
  }

  /** The proxy's answer to {@code agent/response}, and the next request when it carried one. */
  public record Posted(int status, FetchedRequest next) {}

  /**
   * Posts the backend's response for {@code id}, streaming it as it is produced.
   *
   * @return the proxy's status: 200 once relayed, 404 when no client waits for it any more
   * @throws IOException when the call fails after the retries, or half-way (then it cannot be retried)
   */
  public int postResponse(String id, SerializedResponse response) throws IOException {
    return postResponse(id, response, false).status();
  }

  /**
   * Like {@link #postResponse(String, SerializedResponse)}; with {@code acceptNext}, announces the
   * {@code next-request} extension, and the answer may carry the next request waiting for this
   * backend, which the caller then owns (and must forward and close).
   */
  public Posted postResponse(String id, SerializedResponse response, boolean acceptNext) throws IOException {
    Backoff backoff = new Backoff();
    for (int attempt = 0; ; attempt++) {
      ClassicHttpRequest call = call("POST", AgentPaths.RESPONSE);
      call.addHeader(ProtocolHeaders.REQUEST_ID, id);
      if (acceptNext) {
        call.addHeader(AgentFeatures.HEADER, AgentFeatures.NEXT_REQUEST);
      }
      call.addHeader("Content-Type", "text/plain");
      call.addHeader("Transfer-Encoding", "chunked");
      call.setEntity(response);
      ConnectionPool.Lease lease;
      try {
        lease = pool.lease();
      } catch (IOException e) {
        if (attempt < MAX_RETRIES) {
          retryAfter(backoff, "agent/response", id, e.getMessage());
          continue;
        }
        throw e;
      }
      response.onFailure(lease::discard);
      HttpCoreContext context = HttpCoreContext.create();
      ClassicHttpResponse answer;
      String nextId;
      try {
        lease.setSocketTimeout(timeout);
        answer = execute(call, lease, context);
        nextId = acceptNext && answer.getCode() == 200 ? header(answer, AgentFeatures.NEXT_REQUEST_ID) : null;
        if (nextId == null) {
          readAtMost(answer.getEntity(), 4096, lease);
          lease.release(executor.keepAlive(call, answer, lease.connection(), context));
        }
      } catch (IOException e) {
        lease.discard();
        if (response.canRetry() && attempt < MAX_RETRIES) {
          retryAfter(backoff, "agent/response", id, e.getMessage());
          continue;
        }
        throw e;
      }
      int status = answer.getCode();
      if (nextId != null) {
        // The response is relayed whatever becomes of the next request.
        try {
          return new Posted(status, readRequest(nextId, "agent/response", call, answer, lease, context));
        } catch (IOException e) {
          LOG.warning("request " + nextId + " (the next request in the answer for " + id
              + "): not forwarded: " + e.getMessage());
          return new Posted(status, null);
        }
      }
      if (status >= 500 && response.canRetry() && attempt < MAX_RETRIES) {
        retryAfter(backoff, "agent/response", id, "status " + status);
        continue;
      }
      return new Posted(status, null);
    }
  }

  private ClassicHttpRequest call(String method, String agentPath) throws IOException {
    ClassicHttpRequest call = new BasicClassicHttpRequest(method, (HttpHost) null, base.target(agentPath));
    call.addHeader("Host", host());
    for (HeaderField f : agentFields()) {
      call.addHeader(f.name(), f.value());
    }
    return call;
  }

  /** The {@code Host} of every agent call: the proxy URL's authority. */
  public String host() {
    return base.origin().authority();
  }

  /**
   * The fields every agent call carries besides {@code Host}: user agent, backend id, the credentials'
   * {@code Authorization} and other headers; asked afresh per call, as credentials may refresh.
   *
   * @throws IOException when the credentials cannot be obtained
   */
  public List<HeaderField> agentFields() throws IOException {
    List<HeaderField> fields = new ArrayList<>();
    fields.add(new HeaderField("User-Agent", USER_AGENT));
    fields.add(new HeaderField(ProtocolHeaders.BACKEND_ID, backendId));
    credentials.authorizationHeader().ifPresent(value -> fields.add(new HeaderField("Authorization", value)));
    for (HeaderField f : credentials.otherHeaders()) {
      fields.add(f);
    }
    return fields;
  }

  private ClassicHttpResponse execute(ClassicHttpRequest call, ConnectionPool.Lease lease, HttpCoreContext context)
      throws IOException {
    try {
      return executor.execute(call, lease.connection(), context);
    } catch (HttpException e) {
      throw new IOException("proxy broke HTTP/1.1 answering " + call.getPath() + ": " + e.getMessage(), e);
    }
  }

  private static void retryAfter(Backoff backoff, String call, String id, String reason) throws IOException {
    Duration wait = backoff.next();
    LOG.log(Level.FINE, "{0} for {1} failed ({2}); retrying in {3} ms",
        new Object[] {call, id, reason, wait.toMillis()});
    try {
      Thread.sleep(wait.toMillis(), wait.toNanosPart() % 1_000_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to retry " + call);
    }
  }

  private static String header(ClassicHttpResponse response, String name) {
    Header h = response.getFirstHeader(name);
    return h == null ? null : h.getValue();
  }

  /**
   * Reads a short answer whole. A longer one is not drained (that could take long): the connection is
   * dropped instead, and the result is null.
   */
  private static byte[] readAtMost(HttpEntity entity, int limit, ConnectionPool.Lease lease) throws IOException {
    if (entity == null) {
      return new byte[0];
    }
    InputStream in = entity.getContent();
    byte[] bytes = in.readNBytes(limit + 1);
    if (bytes.length > limit) {
      lease.discard();
      return null;
    }
    in.close();
    return bytes;
  }

  private static String describeBody(byte[] body) {
    if (body == null) {
      return "";
    }
    String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
    text = text.replaceAll("[\\r\\n\\t]+", " ");
    return text.isEmpty() ? "" : ": " + text;
  }
}
