package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.backend.BackendClient;
import io.github.invertingproxy.agent.backend.BackendExchange;
import io.github.invertingproxy.agent.backend.BackendFailure;
import io.github.invertingproxy.agent.channel.ChannelSocket;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.proxy.FetchedRequest;
import io.github.invertingproxy.agent.proxy.ProxyClient;
import io.github.invertingproxy.agent.rewrite.ExchangeRewrites;
import io.github.invertingproxy.agent.websocket.AgentWebSockets;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's pipeline, one request at a time on the calling thread: a request from its source
 * (fetched after a poll listed it, or whole from a channel frame) is prepared ({@link ExchangeRewrites}),
 * replayed against the backend ({@link BackendClient}), and its response (or a 502 that says why there
 * is none) given to a {@link ResponseSink}. A next request that the proxy hands over in its answer
 * goes the same way on the same thread. WebSocket upgrades and the shim's calls go to
 * {@link AgentWebSockets} instead.
 */
public final class RequestForwarder {
  private static final Logger LOG = Logger.getLogger(RequestForwarder.class.getName());

  private final ProxyClient proxy;
  private final BackendClient backend;
  private final ExchangeRewrites rewrites;
  private final AgentWebSockets webSockets;
  private final RequestLog log;
  private final PostedResponses posted;
  private final UnansweredRequests unanswered = new UnansweredRequests();

  /**
   * @param webSockets where WebSocket upgrades and the shim's calls go; null when the agent carries none
   * @param acceptNext whether to take the next waiting request from the proxy's answer to each
   *     response (the {@code next-request} extension); asked before every response, so that a
   *     closing agent stops taking requests this way
   * @param observer told of every request's way and of failed proxy calls
   */
  public RequestForwarder(ProxyClient proxy, BackendClient backend, ExchangeRewrites rewrites,
      AgentWebSockets webSockets, BooleanSupplier acceptNext, AgentObserver observer) {
    this.proxy = requireNonNull(proxy, "proxy");
    this.backend = requireNonNull(backend, "backend");
    this.rewrites = requireNonNull(rewrites, "rewrites");
    this.webSockets = webSockets;
    this.log = new RequestLog(observer);
    this.posted = new PostedResponses(proxy, acceptNext, log);
  }

  /** Fetches request {@code id}, which a poll listed, and forwards it; then each next one. */
  public void forward(String id) {
    long started = System.nanoTime();
    FetchedRequest fetched;
    try {
      fetched = proxy.fetchRequest(id);
    } catch (IOException e) {
      log.observer().proxyCallFailed(AgentObserver.ProxyCall.REQUEST);
      LOG.warning(() -> "request " + RequestLog.shortId(id) + ": not forwarded: " + e.getMessage());
      return;
    }
    forwardAll(fetched, posted, started);
  }

  /**
   * Forwards a request that came whole over the channel {@code via}; its response goes back over the
   * same channel when it fits in a frame, else with {@code agent/response}.
   */
  public void forward(ChannelFrame.Request request, ChannelSocket via) {
    long started = System.nanoTime();
    FetchedRequest whole = whole(request);
    if (whole != null) {
      forwardAll(whole, sinkFor(via), started);
    }
  }

  /**
   * Answers {@code 503} at once to every request whose response has not begun, when the agent stops
   * without letting them finish: their clients need not wait for the proxy's timeout.
   */
  public void answerUnanswered() {
    for (String id : unanswered.takeAll()) {
      posted.answerStopping(id);
    }
  }

  /** The request a channel frame carries; null, after a warning, when the frame is unusable. */
  static FetchedRequest whole(ChannelFrame.Request request) {
    try {
      return FetchedRequest.whole(request);
    } catch (IOException e) {
      LOG.warning(() -> "request " + RequestLog.shortId(request.id()) + ": not forwarded: " + e.getMessage());
      return null;
    }
  }

  ChannelResponses sinkFor(ChannelSocket via) {
    return new ChannelResponses(via, posted, log);
  }

  /** Forwards {@code first}, whose response goes to {@code sink}, then each next request the proxy hands over. */
  void forwardAll(FetchedRequest first, ResponseSink sink, long started) {
    FetchedRequest next = forward(first, sink, started);
    while (next != null) {
      // A request handed over in an answer to agent/response is answered the same way.
      next = forward(next, posted, System.nanoTime());
    }
  }

  /** Forwards the requests that the proxy handed over in an answer, from {@code next} on. */
  void forwardNext(FetchedRequest next) {
    if (next != null) {
      forwardAll(next, posted, System.nanoTime());
    }
  }

  /** Forwards one request; returns the next one when the proxy's answer carried it, else null. */
  private FetchedRequest forward(FetchedRequest fetched, ResponseSink sink, long started) {
    RequestHead original = fetched.message().head();
    log.received(fetched);
    if (wantsWebSocket(original)) {
      unanswered.forget(fetched.id()); // it answers itself
      serveWebSocket(fetched);
      return null;
    }
    log.observer().received(fetched.id());
    unanswered.add(fetched.id());
    ExchangeRewrites.Exchange rewrite = rewrites.begin(original, fetched.userId());
    return relay(fetched, rewrite, () -> {
      BackendExchange exchange = backend.send(rewrite.request(), fetched.message());
      if (exchange.requestBodySent()) {
        fetched.bodyConsumed();
      }
      return exchange;
    }, sink, started);
  }

  /** How a response head is had from the backend: by sending the request, or reading a handed-over one. */
  interface BackendCall {
    BackendExchange start() throws BackendFailure;
  }

  /**
   * Gets the backend's response through {@code call} (a 502 when there is none) and gives it to
   * {@code sink}; blocking. Returns the next request when the proxy's answer carried one, else null.
   */
  FetchedRequest relay(FetchedRequest fetched, ExchangeRewrites.Exchange rewrite, BackendCall call,
      ResponseSink sink, long started) {
    BackendExchange exchange = null;
    try {
      SerializedResponse response;
      String failure = null;
      try {
        exchange = call.start();
        response = rewrite.response(exchange.serialize(), backend.origin());
      } catch (BackendFailure e) {
        failure = e.getMessage();
        LOG.log(Level.FINE, "request " + RequestLog.shortId(fetched.id()) + ": " + failure, e.getCause());
        response = Reply.badGateway(failure);
      }
      Reply reply = new Reply(fetched.id(), fetched.message().head(), exchange, response, failure, started);
      // The request is read; its proxy connection can serve other calls while the response streams.
      fetched.close();
      if (!unanswered.take(reply.id())) {
        LOG.info(() -> "request " + RequestLog.shortId(reply.id()) + ": the stopping agent answered it already");
        return null;
      }
      return sink.send(reply);
    } finally {
      unanswered.forget(fetched.id());
      fetched.close();
      if (exchange != null) {
        exchange.close();
      }
    }
  }

  boolean wantsWebSocket(RequestHead request) {
    return webSockets != null && webSockets.wants(request);
  }

  BackendClient backend() {
    return backend;
  }

  ExchangeRewrites rewrites() {
    return rewrites;
  }

  RequestLog log() {
    return log;
  }

  PostedResponses posted() {
    return posted;
  }

  UnansweredRequests unanswered() {
    return unanswered;
  }

  /** Serves a WebSocket upgrade or a shim call, which answers with agent/response itself. */
  private void serveWebSocket(FetchedRequest fetched) {
    String id = fetched.id();
    RequestHead original = fetched.message().head();
    try {
      RequestHead prepared = rewrites.begin(original, fetched.userId()).request();
      webSockets.handle(id, original, prepared, fetched.message().body(), () -> {
        fetched.bodyConsumed();
        fetched.close();
      }, (head, body) -> proxy.postResponse(id, new SerializedResponse(head,
          body.length == 0 ? BodyFraming.NONE : new BodyFraming.Length(body.length), new ByteArrayInputStream(body),
          Headers::empty)));
    } catch (IOException e) {
      LOG.warning("request " + RequestLog.shortId(id) + ": " + original.method() + " " + original.path() + ": "
          + e.getMessage());
    } finally {
      fetched.close();
    }
  }
}
