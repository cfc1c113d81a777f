package io.github.invertingproxy.agent;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.websocket.AgentWebSockets;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Forwards one proxied request: reads it from the proxy, replays it against the backend, and streams
 * the backend's response back (or a 502 that says why there is none). Logs one line per request.
 */
final class RequestForwarder {
  private static final Logger LOG = Logger.getLogger(RequestForwarder.class.getName());

  private final ProxyClient proxy;
  private final BackendClient backend;
  private final boolean forwardUserId;
  private final boolean stripCredentials;
  private final ExchangeRewrites rewrites;
  private volatile AgentWebSockets webSockets;
  private volatile BackendLoop loop;
  /** Requests with the selector or its channel write; see {@link #awaitSelectorExchanges}. */
  private final AtomicInteger selectorExchanges = new AtomicInteger();
  private final UnansweredRequests unanswered = new UnansweredRequests();
  private volatile BooleanSupplier acceptNext = () -> false;
  private volatile AgentObserver observer = AgentObserver.NONE;

  RequestForwarder(ProxyClient proxy, BackendClient backend, boolean forwardUserId, boolean stripCredentials) {
    this(proxy, backend, forwardUserId, stripCredentials, ExchangeRewrites.NONE);
  }

  /** @param rewrites session cookies and HTML injection, applied to every exchange */
  RequestForwarder(ProxyClient proxy, BackendClient backend, boolean forwardUserId, boolean stripCredentials,
      ExchangeRewrites rewrites) {
    this.proxy = requireNonNull(proxy, "proxy");
    this.backend = requireNonNull(backend, "backend");
    this.forwardUserId = forwardUserId;
    this.stripCredentials = stripCredentials;
    this.rewrites = requireNonNull(rewrites, "rewrites");
  }

  /**
   * Whether to take the next waiting request from the proxy's answer to each response (the
   * {@code next-request} extension; a proxy without it ignores the offer). Asked before every
   * response, so that a closing agent stops taking new requests this way. Off by default.
   */
  RequestForwarder acceptNextRequests(BooleanSupplier acceptNext) {
    this.acceptNext = requireNonNull(acceptNext, "acceptNext");
    return this;
  }

  /** Told of every request's way and of failed proxy calls; none by default. */
  RequestForwarder observer(AgentObserver observer) {
    this.observer = requireNonNull(observer, "observer");
    return this;
  }

  /** WebSocket upgrades and the shim's calls go to {@code webSockets} (package websocket); null: none. */
  RequestForwarder webSockets(AgentWebSockets webSockets) {
    this.webSockets = webSockets;
    return this;
  }

  /**
   * Fetches request {@code id} and forwards it; then forwards each next request that the proxy hands
   * over in its answers (the {@code next-request} extension), on this same thread.
   */
  void forward(String id) {
    long started = System.nanoTime();
    FetchedRequest fetched;
    try {
      fetched = proxy.fetchRequest(id);
    } catch (IOException e) {
      observer.proxyCallFailed(AgentObserver.ProxyCall.REQUEST);
      LOG.warning(() -> "request " + shortId(id) + ": not forwarded: " + e.getMessage());
      return;
    }
    forwardAll(fetched, started);
  }

  /**
   * Forwards a request that came whole over the channel {@code via}, as if it had been fetched; its
   * response goes back over the same channel when it fits in a frame, else with {@code agent/response}
   * (and then the proxy may hand over next requests in its answer, as for any other).
   */
  void forward(ChannelFrame.Request request, ChannelSocket via) {
    long started = System.nanoTime();
    FetchedRequest received = received(request, via);
    if (received == null) {
      return;
    }
    forwardAll(received, started);
  }

  /**
   * Sends small requests that came over the channel to the backend through {@code loop}, without a
   * thread per exchange (plain HTTP/1.1 backends only); null: every request takes a thread.
   */
  RequestForwarder backendLoop(BackendLoop loop) {
    this.loop = loop;
    return this;
  }

  /** The request a channel frame carries; null, after a warning, when the frame is unusable. */
  private static FetchedRequest received(ChannelFrame.Request request, ChannelSocket via) {
    try {
      return FetchedRequest.received(request, via);
    } catch (IOException e) {
      LOG.warning(() -> "request " + shortId(request.id()) + ": not forwarded: " + e.getMessage());
      return null;
    }
  }

  private void forwardAll(FetchedRequest first, long started) {
    FetchedRequest fetched = first;
    while (fetched != null) {
      fetched = forward(fetched, started);
      started = System.nanoTime();
    }
  }

  /**
   * Forwards a request that came whole over the channel {@code via}; called on the channel's reader,
   * so it never waits. The request goes to the backend through the selector when it can (see
   * {@link #backendLoop}); whatever may wait (another request, a streamed response, a post to the
   * proxy) goes to {@code threads}.
   */
  void forward(ChannelFrame.Request request, ChannelSocket via, Executor threads) {
    BackendLoop selector = loop;
    if (selector == null) {
      threads.execute(() -> forward(request, via));
      return;
    }
    long started = System.nanoTime();
    FetchedRequest received = received(request, via);
    if (received == null) {
      return;
    }
    RequestHead original = received.message().head();
    AgentWebSockets ws = webSockets;
    BodyFraming framing = received.message().framing();
    if (ws != null && ws.wants(original) || original.method().equalsIgnoreCase("CONNECT")
        || !framing.knownAtMost(ChannelFrame.MAX_BODY_BYTES)) {
      threads.execute(() -> forwardAll(received, started));
      return;
    }
    ExchangeRewrites.Exchange rewrite;
    byte[] wire;
    try {
      rewrite = rewrites.begin(prepare(original, received.userId()), received.userId());
      ByteArrayOutputStream out = new ByteArrayOutputStream(512);
      MessageWriter.writeHead(out, rewrite.request());
      received.message().body().transferTo(out);
      wire = out.toByteArray();
    } catch (IOException | RuntimeException e) {
      // Not expected (all is in memory); the thread path then meets the same problem and says what it is.
      threads.execute(() -> forwardAll(received, started));
      return;
    }
    logReceived(received);
    observer.received(received.id());
    unanswered.add(received.id());
    RequestHead sent = rewrite.request();
    received.bodyConsumed();
    selectorExchanges.incrementAndGet();
    boolean retryable = framing instanceof BodyFraming.None && BackendClient.IDEMPOTENT.contains(sent.method());
    boolean taken = selector.exchange(wire, sent.method().equalsIgnoreCase("HEAD"), retryable,
        new BackendLoop.Listener() {
          @Override
          public void completed(SmallResponseReader.Result response, byte[] body) {
            SerializedResponse relayed;
            String failure = null;
            try {
              relayed = rewrite.response(SerializedResponse.whole(response, body), selector.origin());
            } catch (BackendFailure | RuntimeException e) {
              failure = e instanceof BackendFailure ? e.getMessage() : "the agent could not relay the response: " + e;
              relayed = badGateway(failure);
            }
            sendBack(received, relayed, failure, started, threads);
          }

          @Override
          public void handedOff(SocketChannel channel, ByteBuffer readSoFar, ByteBuffer unwritten,
              Duration remaining) {
            handOver(threads, () -> forwardAll(respondAfterHandOff(received, rewrite, channel, readSoFar, unwritten,
                remaining, started), System.nanoTime()));
          }

          @Override
          public void failed(BackendFailure failure) {
            LOG.log(Level.FINE, "request " + shortId(received.id()) + ": " + failure.getMessage(), failure.getCause());
            sendBack(received, badGateway(failure.getMessage()), failure.getMessage(), started, threads);
          }
        });
    if (!taken) {
      handOver(threads, () -> forwardAll(received, started));
    }
  }

  /**
   * Waits up to {@code timeout} until no request is with the selector or its channel write any more:
   * each has been answered, or handed to the request threads. True when none is left.
   */
  boolean awaitSelectorExchanges(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (selectorExchanges.get() > 0) {
      if (System.nanoTime() - end >= 0) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  /** Ends a request's time with the selector by giving the rest of its work to {@code threads}. */
  private void handOver(Executor threads, Runnable rest) {
    try {
      threads.execute(rest);
    } catch (RejectedExecutionException e) {
      LOG.warning("a request's response was dropped: the agent is stopping");
    } finally {
      selectorExchanges.decrementAndGet();
    }
  }

  /**
   * Sends a response back without waiting: over the request's channel when it fits a frame, else
   * (or when the channel fails it) with {@code agent/response} on {@code threads}.
   */
  private void sendBack(FetchedRequest fetched, SerializedResponse response, String failure, long started,
      Executor threads) {
    fetched.close();
    if (!unanswered.take(fetched.id())) {
      selectorExchanges.decrementAndGet(); // the stopping agent answered it already
      return;
    }
    ChannelSocket via = fetched.channel();
    RequestHead original = fetched.message().head();
    if (via.isOpen() && response.fitsWhole(ChannelFrame.MAX_BODY_BYTES)) {
      Held held = hold(response, failure, null);
      via.send(fetched.id(), held.response().toByteArray(), written -> {
        if (written) {
          logOutcome(fetched.id(), original, held.response(), started, 200, held.failure());
          selectorExchanges.decrementAndGet();
        } else {
          // The channel closed meanwhile: the same bytes go with agent/response, which the proxy takes too.
          handOver(threads, () -> forwardAll(post(fetched.id(), original, null, held.response(), held.failure(),
              started), System.nanoTime()));
        }
      });
      return;
    }
    handOver(threads, () -> forwardAll(post(fetched.id(), original, null, response, failure, started),
        System.nanoTime()));
  }

  /** Reads the response that the selector handed over with its connection, and sends it back; blocking. */
  private FetchedRequest respondAfterHandOff(FetchedRequest fetched, ExchangeRewrites.Exchange rewrite,
      SocketChannel channel, ByteBuffer readSoFar, ByteBuffer unwritten, Duration remaining, long started) {
    return relay(fetched, rewrite, () -> backend.receive(channel, readSoFar, unwritten, loop::takeBack,
        rewrite.request(), remaining), started);
  }

  /** Forwards one request; returns the next one when the proxy's answer carried it, else null. */
  private FetchedRequest forward(FetchedRequest fetched, long started) {
    RequestHead original = fetched.message().head();
    logReceived(fetched);
    AgentWebSockets ws = webSockets;
    if (ws != null && ws.wants(original)) {
      unanswered.forget(fetched.id()); // it answers itself
      serveWebSocket(ws, fetched.id(), original, fetched);
      return null;
    }
    observer.received(fetched.id());
    unanswered.add(fetched.id());
    ExchangeRewrites.Exchange rewrite = rewrites.begin(prepare(original, fetched.userId()), fetched.userId());
    return relay(fetched, rewrite, () -> {
      BackendExchange exchange = backend.send(rewrite.request(), fetched.message());
      if (exchange.requestBodySent()) {
        fetched.bodyConsumed();
      }
      return exchange;
    }, started);
  }

  /** How a response head is had from the backend: by sending the request, or reading a handed-over one. */
  private interface BackendCall {
    BackendExchange start() throws BackendFailure;
  }

  /**
   * Gets the backend's response through {@code call} (a 502 when there is none) and sends it back;
   * blocking. Returns the next request when the proxy's answer carried one, else null.
   */
  private FetchedRequest relay(FetchedRequest fetched, ExchangeRewrites.Exchange rewrite, BackendCall call,
      long started) {
    BackendExchange exchange = null;
    try {
      SerializedResponse response;
      String failure = null;
      try {
        exchange = call.start();
        response = rewrite.response(exchange.serialize(), backend.origin());
      } catch (BackendFailure e) {
        failure = e.getMessage();
        LOG.log(Level.FINE, "request " + shortId(fetched.id()) + ": " + failure, e.getCause());
        response = badGateway(failure);
      }
      return respond(fetched, exchange, response, failure, started);
    } finally {
      unanswered.forget(fetched.id());
      fetched.close();
      if (exchange != null) {
        exchange.close();
      }
    }
  }

  /**
   * Sends a response back, waiting: over the request's channel when it fits a frame, else with
   * {@code agent/response}. Returns the next request when the proxy's answer carried one, else null.
   */
  private FetchedRequest respond(FetchedRequest fetched, BackendExchange exchange, SerializedResponse response,
      String failure, long started) {
    String id = fetched.id();
    RequestHead original = fetched.message().head();
    // The request is read; its proxy connection can serve other calls while the response streams.
    fetched.close();
    if (!unanswered.take(id)) {
      LOG.info(() -> "request " + shortId(id) + ": the stopping agent answered it already");
      return null;
    }
    ChannelSocket via = fetched.channel();
    if (via != null && via.isOpen() && response.fitsWhole(ChannelFrame.MAX_BODY_BYTES)) {
      Held held = hold(response, failure, exchange);
      response = held.response();
      failure = held.failure();
      if (via.send(id, response.toByteArray())) {
        logOutcome(id, original, response, started, 200, failure);
        return null;
      }
      // The channel closed meanwhile: the same bytes go with agent/response, which the proxy takes too.
    }
    return post(id, original, exchange, response, failure, started);
  }

  /** Posts a response with {@code agent/response}; returns the next request when the answer carried one. */
  private FetchedRequest post(String id, RequestHead original, BackendExchange exchange, SerializedResponse response,
      String failure, long started) {
    ProxyClient.Posted posted;
    try {
      posted = proxy.postResponse(id, response, acceptNext.getAsBoolean());
    } catch (IOException e) {
      observer.proxyCallFailed(AgentObserver.ProxyCall.RESPONSE);
      observer.dropped(id);
      String why = brokeOff(exchange, e.getMessage());
      LOG.warning(summary(id, original, response, started) + ", aborted: " + why);
      return null;
    }
    logOutcome(id, original, response, started, posted.status(), failure);
    return posted.next();
  }

  /**
   * Answers {@code 503} at once to every request whose response has not begun, when the agent stops
   * without letting them finish: their clients need not wait for the proxy's timeout.
   */
  void answerUnanswered() {
    for (String id : unanswered.takeAll()) {
      try {
        int status = proxy.postResponse(id, SerializedResponse.ofText(503, "Service Unavailable",
            "inverting-proxy agent: the agent stopped before the backend answered\n"), false).status();
        observer.forwarded(id, new AgentObserver.Forwarded(503, null, status));
        LOG.info("request " + shortId(id) + ": answered 503, the agent is stopping (proxy answered " + status + ")");
      } catch (IOException e) {
        observer.proxyCallFailed(AgentObserver.ProxyCall.RESPONSE);
        observer.dropped(id);
        LOG.warning("request " + shortId(id) + ": could not answer 503 while stopping: " + e.getMessage());
      }
    }
  }

  private static SerializedResponse badGateway(String failure) {
    return SerializedResponse.ofText(502, "Bad Gateway", "inverting-proxy agent: " + failure + "\n");
  }

  private static void logReceived(FetchedRequest fetched) {
    if (LOG.isLoggable(Level.FINE)) {
      RequestHead original = fetched.message().head();
      LOG.fine("request " + shortId(fetched.id()) + ": " + original.method() + " " + original.path() + " for user \""
          + fetched.userId() + "\", queued at the proxy for "
          + Duration.between(fetched.startTime(), Instant.now()).toMillis() + " ms");
    }
  }

  /** A response read into memory, and what went wrong on the way, if anything. */
  private record Held(SerializedResponse response, String failure) {}

  /**
   * {@code response} read whole into memory, for a channel frame; a 502 that says why when the
   * backend's body breaks off meanwhile.
   */
  private static Held hold(SerializedResponse response, String failure, BackendExchange exchange) {
    try {
      return new Held(response.readWhole(), failure);
    } catch (IOException e) {
      String why = brokeOff(exchange, "backend's response broke off: " + e.getMessage());
      return new Held(badGateway(why), why);
    }
  }

  /** Why a response broke off: the forwarding timeout when it cut the exchange, else {@code otherwise}. */
  private static String brokeOff(BackendExchange exchange, String otherwise) {
    return exchange != null && exchange.timedOut()
        ? "backend did not finish within the --request-forwarding-timeout"
        : otherwise;
  }

  /** The request's one log line, once its response is sent; {@code proxyStatus} 200 for a channel frame. */
  private void logOutcome(String id, RequestHead original, SerializedResponse response, long started, int proxyStatus,
      String failure) {
    observer.forwarded(id, new AgentObserver.Forwarded(response.head().status(), failure, proxyStatus));
    String line = summary(id, original, response, started);
    if (proxyStatus == 404) {
      LOG.info(line + ", but no client was waiting any more (proxy answered 404)");
    } else if (proxyStatus != 200) {
      LOG.warning(line + ", but the proxy answered " + proxyStatus + " to agent/response");
    } else if (failure != null) {
      LOG.warning(line + ": " + failure);
    } else {
      LOG.info(line);
    }
  }

  /** Serves a WebSocket upgrade or a shim call with {@code ws}, which answers with agent/response itself. */
  private void serveWebSocket(AgentWebSockets ws, String id, RequestHead original, FetchedRequest fetched) {
    try {
      RequestHead prepared = rewrites.begin(prepare(original, fetched.userId()), fetched.userId()).request();
      ws.handle(id, original, prepared, fetched.message().body(), () -> {
        fetched.bodyConsumed();
        fetched.close();
      }, (head, body) -> proxy.postResponse(id, new SerializedResponse(head,
          body.length == 0 ? BodyFraming.NONE : new BodyFraming.Length(body.length), new ByteArrayInputStream(body),
          Headers::empty)));
    } catch (IOException e) {
      LOG.warning("request " + shortId(id) + ": " + original.method() + " " + original.path() + ": " + e.getMessage());
    } finally {
      fetched.close();
    }
  }

  /**
   * The request as the backend gets it: as the client sent it, less the fields that belong to the
   * client's own connection (not the body's framing, which the replay keeps), plus what the flags ask.
   */
  RequestHead prepare(RequestHead head, String userId) {
    Headers received = head.headers();
    List<HeaderField> endToEnd = HopByHopHeaders.strip(received).asList();
    Headers headers = received.without(f -> !f.is("Transfer-Encoding") && !f.is("Trailer") && !endToEnd.contains(f));
    if (stripCredentials) {
      headers = headers.without(f -> f.is("Authorization"));
    }
    if (forwardUserId) {
      // Replace rather than add, so that no forged value from the client can come first.
      headers = headers.without(f -> f.is(ProtocolHeaders.USER_ID))
          .plus(new HeaderField(ProtocolHeaders.USER_ID, userId));
    }
    if (!headers.contains("Host")) {
      // HTTP/1.1 needs one; like Go's reverse proxy, name the backend when the client named nothing.
      List<HeaderField> withHost = new ArrayList<>(headers.size() + 1);
      withHost.add(new HeaderField("Host", backend.origin().authority()));
      withHost.addAll(headers.asList());
      headers = Headers.of(withHost);
    }
    return new RequestHead(head.method(), head.target(), headers);
  }

  private static String summary(String id, RequestHead request, SerializedResponse response, long started) {
    long millis = (System.nanoTime() - started) / 1_000_000;
    return "request " + shortId(id) + ": " + request.method() + " " + request.path() + " -> "
        + response.head().status() + ", " + response.bytes() + " bytes, " + millis + " ms";
  }

  private static String shortId(String id) {
    return id.length() <= 12 ? id : id.substring(0, 12);
  }
}
