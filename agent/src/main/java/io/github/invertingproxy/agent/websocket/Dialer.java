package io.github.invertingproxy.agent.websocket;

import io.github.invertingproxy.protocol.HeaderField;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.UpgradeListener;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.core.exception.UpgradeException;

/**
 * The agent's outbound WebSockets, to the backend and to the proxy, on Jetty's frame-level client. One
 * shared client: sockets cost no thread of their own. It adds nothing of its own to a handshake (no
 * cookies it kept, no user agent, no extensions), so the backend sees the client's fields. The agent
 * owns one, shared by its relays, the shim and the channel.
 */
public final class Dialer implements AutoCloseable {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http;
  private final WebSocketCoreClient client;

  /** A handshake that did not give a WebSocket: the HTTP status the peer answered, or 0 for none. */
  public static final class Refused extends IOException {
    final int status;

    Refused(int status, String message, Throwable cause) {
      super(message, cause);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** An open socket and the fields of the peer's 101 answer. */
  public record Dialed(CoreSession session, HttpFields responseHeaders) {}

  /** @param trustAnyCertificate accept any certificate from a {@code wss://} peer ({@code --disable-ssl-for-test}) */
  public Dialer(boolean trustAnyCertificate) {
    this(trustAnyCertificate, null);
  }

  /**
   * @param trusted the authorities a {@code wss://} peer's certificate may come from; null for the
   *     JVM's default
   */
  public Dialer(boolean trustAnyCertificate, javax.net.ssl.SSLContext trusted) {
    SslContextFactory.Client tls = new SslContextFactory.Client(trustAnyCertificate);
    if (trusted != null && !trustAnyCertificate) {
      tls.setSslContext(trusted);
    }
    if (trustAnyCertificate) {
      tls.setEndpointIdentificationAlgorithm(null);
    }
    http = new HttpClient();
    http.setSslContextFactory(tls);
    QueuedThreadPool threads = new QueuedThreadPool(200, 2);
    threads.setName("inverting-proxy-agent-websocket");
    threads.setDaemon(true);
    http.setExecutor(threads);
    http.setScheduler(new ScheduledExecutorScheduler("inverting-proxy-agent-websocket-scheduler", true));
    http.setHttpCookieStore(new HttpCookieStore.Empty());
    http.setUserAgentField(null);
    http.setFollowRedirects(false);
    http.setConnectTimeout(CONNECT_TIMEOUT.toMillis());
    client = new WebSocketCoreClient(http, new WebSocketComponents(null, null, null, null, null, threads));
  }

  public void start() throws Exception {
    client.start();
  }

  /**
   * Opens a WebSocket to {@code uri} and waits for it, up to the handshake timeout.
   *
   * @param host the {@code Host} field to send; null names the URI's authority
   * @throws Refused when the peer answers anything but 101, or cannot be reached
   */
  Dialed dial(URI uri, FrameHandler handler, List<HeaderField> fields, String host, List<String> subprotocols)
      throws Refused, InterruptedException {
    CompletableFuture<Dialed> dialing = open(uri, handler, fields, host, subprotocols, HANDSHAKE_TIMEOUT);
    try {
      return dialing.get();
    } catch (InterruptedException e) {
      dialing.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      throw (Refused) e.getCause();
    }
  }

  /**
   * Starts opening a WebSocket to {@code uri} without waiting for it.
   *
   * @param host the {@code Host} field to send; null names the URI's authority
   * @param timeout the most the connection and the handshake may take together
   * @return completes with the open socket, or fails with {@link Refused} when the peer answers anything
   *     but 101, cannot be reached, or takes longer than {@code timeout}; cancelling it gives up
   */
  public CompletableFuture<Dialed> open(URI uri, FrameHandler handler, List<HeaderField> fields, String host,
      List<String> subprotocols, Duration timeout) {
    CoreClientUpgradeRequest request = CoreClientUpgradeRequest.from(client, uri, handler);
    request.headers(h -> {
      for (HeaderField f : fields) {
        h.add(f.name(), f.value());
      }
      if (host != null) {
        h.put(HttpHeader.HOST, host);
      }
    });
    if (!subprotocols.isEmpty()) {
      request.setSubProtocols(subprotocols);
    }
    request.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    AtomicReference<HttpFields> answer = new AtomicReference<>(HttpFields.EMPTY);
    request.addListener(new UpgradeListener() {
      @Override
      public void onHandshakeResponse(Request req, Response response) {
        answer.set(HttpFields.build(response.getHeaders()).asImmutable());
      }
    });
    CompletableFuture<Dialed> result = new CompletableFuture<>();
    CompletableFuture<CoreSession> connecting;
    try {
      connecting = client.connect(request);
    } catch (IOException e) {
      result.completeExceptionally(new Refused(0, "cannot open a WebSocket to " + uri + ": " + e.getMessage(), e));
      return result;
    }
    // A backstop in case the request's own timeout never fires; Jetty's timeout normally comes first.
    Scheduler.Task backstop = http.getScheduler().schedule(() -> result.completeExceptionally(new Refused(0,
        "no WebSocket handshake from " + uri + " within " + timeout.toSeconds() + " s", new TimeoutException())),
        timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    connecting.whenComplete((session, failure) -> {
      backstop.cancel();
      if (failure == null) {
        if (!result.complete(new Dialed(session, answer.get()))) {
          // Given up on (cancelled, or past the backstop) while the handshake finished: nobody holds it.
          session.abort();
        }
        return;
      }
      result.completeExceptionally(refusal(uri, failure, timeout));
    });
    // Cancelling or giving up on the result stops the handshake too.
    result.whenComplete((dialed, failure) -> {
      if (failure != null) {
        connecting.cancel(true);
      }
    });
    return result;
  }

  private static Refused refusal(URI uri, Throwable failure, Duration timeout) {
    Throwable cause = failure instanceof ExecutionException || failure instanceof CompletionException
        ? failure.getCause() : failure;
    if (cause instanceof UpgradeException u && u.getResponseStatusCode() > 0) {
      return new Refused(u.getResponseStatusCode(), uri + " answered the WebSocket handshake with "
          + u.getResponseStatusCode(), cause);
    }
    if (rootOf(cause) instanceof TimeoutException) {
      return new Refused(0, "no WebSocket handshake from " + uri + " within " + timeout.toSeconds() + " s", cause);
    }
    return new Refused(0, "cannot open a WebSocket to " + uri + ": " + describe(cause), cause);
  }

  private static String describe(Throwable t) {
    Throwable root = rootOf(t);
    String message = root.getMessage();
    return message == null ? root.getClass().getSimpleName() : message;
  }

  private static Throwable rootOf(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  /** Stops the client, closing every socket it opened. */
  @Override
  public void close() {
    try {
      client.stop();
    } catch (Exception e) {
      // Stopping closes every connection; nothing is left to do when it fails.
    }
    try {
      http.stop();
    } catch (Exception e) {
      // As above.
    }
  }
}
