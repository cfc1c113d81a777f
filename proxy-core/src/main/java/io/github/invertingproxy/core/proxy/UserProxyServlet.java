package io.github.invertingproxy.core.proxy;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.BufferBudget;
import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.observe.Failure;
import io.github.invertingproxy.core.observe.Finished;
import io.github.invertingproxy.core.observe.ObservedExchange;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.BackendRegistry;
import io.github.invertingproxy.core.spi.ClientBodyException;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.core.spi.RequestTooLargeException;
import io.github.invertingproxy.core.spi.ResponseHandler;
import io.github.invertingproxy.core.spi.Route;
import io.github.invertingproxy.core.websocket.WebSocketGateway;
import io.github.invertingproxy.core.websocket.WebSocketHandshake;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.RequestTarget;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.servlet.DispatcherType;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The user-facing proxy: authenticates the end user, routes the request to a backend, queues it for
 * that backend's agent and relays the agent's response as it streams in.
 */
public final class UserProxyServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  /** When a client refused for want of buffer budget may retry (seconds): any exchange that ends frees some. */
  private static final String BUDGET_RETRY_AFTER_SECONDS = "1";

  private final transient BackendRegistry registry;
  private final transient ExchangeStore store;
  private final transient Identity identity;
  private final transient ProxySettings settings;
  private final transient Clock clock;
  private final transient WebSocketGateway webSockets;
  private final transient ExchangeObserver observer;

  /**
   * @param webSockets carries WebSocket upgrades; null answers them with 501
   * @param observer is told every step of every exchange (the access log is one observer)
   */
  public UserProxyServlet(BackendRegistry registry, ExchangeStore store, Identity identity, ProxySettings settings,
      Clock clock, WebSocketGateway webSockets, ExchangeObserver observer) {
    this.webSockets = webSockets;
    this.observer = requireNonNull(observer, "observer");
    this.registry = requireNonNull(registry, "registry");
    this.store = requireNonNull(store, "store");
    this.identity = requireNonNull(identity, "identity");
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (request.getDispatcherType() == DispatcherType.ASYNC) {
      // Only a relay that broke off re-dispatches (AsyncClientWait): the container aborts the connection.
      Object failure = request.getAttribute(AsyncClientWait.BROKEN_RELAY);
      throw failure instanceof IOException e ? e : new IOException("relaying the response failed", (Throwable) failure);
    }
    long startNanos = System.nanoTime();
    Instant startTime = clock.instant();
    String method = request.getMethod();
    long declaredBytes = request.getContentLengthLong();
    RequestTarget target;
    try {
      // The raw target, not a container's decoded one: this is the one place where it is read.
      target = RequestTarget.of(request.getRequestURI(), request.getQueryString());
    } catch (RequestTarget.RefusedException e) {
      ObservedExchange refused = ObservedExchange.arrived(method,
          request.getRequestURI().replaceAll("\\p{Cntrl}", "?"), declaredBytes, startNanos);
      observer.received(refused);
      PlainText.send(response, 400, "Bad request: " + e.getMessage());
      fail(refused, Failure.REFUSED, 400);
      return;
    }
    // Routed by, logged as and forwarded as the normalised path, so that the backend sees the prefix it was chosen by.
    String path = target.path();
    ObservedExchange exchange = ObservedExchange.arrived(method, path, declaredBytes, startNanos);
    observer.received(exchange);

    Optional<String> user = identity.endUser(request);
    if (user.isEmpty()) {
      identity.challengeEndUser(request, response);
      fail(exchange, Failure.REFUSED, response.getStatus());
      return;
    }
    String email = user.get();
    forward(request, response, target, startTime, exchange.withUser(email), email);
  }

  /**
   * Routes the user's request to its backend, and forwards it unless the backend is unknown or not
   * live, or the request cannot be carried to its agent.
   */
  private void forward(HttpServletRequest request, HttpServletResponse response, RequestTarget target,
      Instant startTime, ObservedExchange exchange, String email) throws IOException {
    String path = target.path();
    Route route = registry.route(email, path);
    if (route.backend().isPresent()) {
      exchange = exchange.routedTo(route.backend().get().id());
    }
    observer.routed(exchange, route.kind());
    if (route.kind() == Route.Kind.NO_MATCH) {
      PlainText.send(response, 404, "Not found: no backend is registered for " + path
          + (email.isEmpty() ? " for anonymous users" : " for " + email));
      fail(exchange, Failure.NO_ROUTE, 404);
      return;
    }
    BackendRecord backend = route.backend().orElseThrow();
    if (route.kind() == Route.Kind.NOT_LIVE) {
      PlainText.send(response, 503, "Service unavailable: the agent of backend \"" + backend.id()
          + "\" is not connected");
      fail(exchange, Failure.NOT_LIVE, 503);
      return;
    }
    WebSocketHandshake handshake = WebSocketHandshake.of(request);
    if (handshake.requested() && refusedUpgrade(handshake, backend, response, exchange)) {
      return;
    }
    registry.markUsed(backend.id());

    ClientRequest clientRequest;
    try {
      clientRequest = ClientRequest.of(request, target, email, startTime, handshake.requested())
          .withHeaders(identity::withoutOwnCredentials);
    } catch (MalformedMessageException | IllegalArgumentException e) {
      // Where the framing is in doubt, so is the rest of the connection's input.
      response.setHeader("Connection", "close");
      PlainText.send(response, 400, "Bad request: " + e.getMessage());
      fail(exchange, Failure.REFUSED, 400);
      return;
    }
    submitAndWait(request, response, exchange, clientRequest, backend.id(), email, handshake.requested());
  }

  /**
   * Queues the request for its agent, and waits for the response without a thread when its body is
   * small enough to hold in memory, or else on this thread.
   */
  private void submitAndWait(HttpServletRequest request, HttpServletResponse response, ObservedExchange exchange,
      ClientRequest clientRequest, String backendId, String email, boolean upgrade) throws IOException {
    boolean threadless = !upgrade && store.awaitsAsynchronously() && request.isAsyncSupported();
    BufferBudget.Reservation buffered = null;
    if (threadless) {
      // A small body is read now, so that the agent's side never needs the client's connection and
      // nothing holds a thread while the response is awaited (see below); within the budget only.
      long toBuffer = clientRequest.bodyBytesInMemory(ChannelFrame.MAX_BODY_BYTES);
      if (toBuffer > 0 && (buffered = settings.bufferBudget().tryReserve(toBuffer)) == null) {
        response.setHeader("Retry-After", BUDGET_RETRY_AFTER_SECONDS);
        PlainText.send(response, 503, "Service unavailable: too many request bodies are waiting in memory; retry later");
        fail(exchange, Failure.OVERLOADED, 503);
        return;
      }
      try {
        clientRequest = clientRequest.withBodyInMemory(ChannelFrame.MAX_BODY_BYTES);
      } catch (IOException | RuntimeException e) {
        refuse(e, buffered, response, exchange, 400, "Bad request: ");
        return;
      }
    }

    String id = submit(response, exchange, clientRequest, backendId, buffered);
    if (id == null) {
      return;
    }
    exchange = exchange.queuedAs(id);
    observer.queued(exchange);
    if (threadless && clientRequest.readsNothingMore()) {
      // No thread waits: whoever brings the response relays it (the store's agent or channel side).
      try {
        AsyncClientWait.begin(request, store, settings, observer, exchange, buffered);
      } catch (IOException | RuntimeException e) {
        store.finish(id);
        release(buffered);
        fail(exchange, Failure.CLIENT_GONE, 0); // the wait could not begin: the connection is unusable
        throw e;
      }
      return;
    }
    relayWithThread(request, response, exchange, id, backendId, email, upgrade, buffered);
  }

  /** Queues the request for the agent of {@code backendId}: its id, or null when it was refused and answered. */
  private String submit(HttpServletResponse response, ObservedExchange exchange, ClientRequest clientRequest,
      String backendId, BufferBudget.Reservation buffered) throws IOException {
    try {
      return store.submit(backendId, clientRequest);
    } catch (RequestTooLargeException | RuntimeException e) {
      refuse(e, buffered, response, exchange, 413, "Payload too large: ");
      return null;
    } catch (ClientBodyException e) {
      badClientBody(response, e);
      fail(exchange, Failure.REFUSED, 400);
      return null;
    }
  }

  /**
   * The client's thread waits for the response and relays it (or completes the upgrade), or answers
   * the failure; either way the exchange ends here: finished in the store and told to the observer.
   */
  private void relayWithThread(HttpServletRequest request, HttpServletResponse response, ObservedExchange exchange,
      String id, String backendId, String email, boolean upgrade, BufferBudget.Reservation buffered)
      throws IOException {
    if (upgrade) {
      webSockets.expect(backendId, id);
    }
    Ending end = new Ending();
    try {
      awaitAndRelay(request, response, exchange, id, backendId, email, upgrade, end);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      end.status = 503;
      end.failure = Failure.SHUTTING_DOWN;
      PlainText.send(response, 503, AsyncClientWait.SHUTTING_DOWN);
    } finally {
      if (upgrade) {
        webSockets.forget(id);
      }
      store.finish(id);
      release(buffered);
      if (end.failure != null) {
        observer.failed(exchange, end.failure, end.status);
      }
      // 0: the relay failed mid-way and the container aborts the client's connection.
      observer.finished(exchange, new Finished(end.status, exchange.requestBytes(), end.bytes, exchange.elapsedNanos()));
    }
  }

  /**
   * Waits for the response and relays it, noting in {@code end} how it went; throws what broke a relay
   * off mid-way, after noting whom to blame.
   */
  private void awaitAndRelay(HttpServletRequest request, HttpServletResponse response, ObservedExchange exchange,
      String id, String backendId, String email, boolean upgradeRequested, Ending end)
      throws IOException, InterruptedException {
    AtomicBoolean begun = new AtomicBoolean(); // set where the relay runs, perhaps another thread
    ResponseRelay.Upgrade upgrade = !upgradeRequested ? null : head -> webSockets.acceptClient(
        request, response, id, head, exchange.path() + " user=" + (email.isEmpty() ? "-" : email) + " backend=" + backendId);
    // Relay failures come back inside the result: the relay may run on the thread that brings
    // the response (see ExchangeStore), and an IOException from the wait means no delivery.
    ResponseHandler<Relayed> relay = r -> Relayed.of(() ->
        ResponseRelay.relay(r, exchange.method(), settings.messageLimits(), response, upgrade, head -> {
          begun.set(true);
          observer.responseBegun(exchange, head);
        }));
    Optional<Relayed> relayed;
    try {
      if (upgrade == null) {
        relayed = store.awaitResponse(id, settings.responseTimeout(), relay);
      } else {
        // An upgrade is completed on this thread, which owns the client's connection.
        Optional<AgentResponse> agentResponse = store.awaitResponse(id, settings.responseTimeout());
        relayed = agentResponse.isEmpty() ? Optional.empty() : Optional.of(relay.handle(agentResponse.get()));
      }
    } catch (IOException e) {
      ClientBodyException clientFault = ClientBodyException.in(e);
      if (clientFault != null) {
        end.status = 400;
        end.failure = Failure.REFUSED;
        badClientBody(response, clientFault);
        return;
      }
      end.status = 502;
      end.failure = Failure.AGENT_GONE;
      PlainText.send(response, 502, "Bad gateway: " + e.getMessage());
      return;
    }
    if (relayed.isEmpty()) {
      end.status = 504;
      end.failure = Failure.TIMEOUT;
      PlainText.send(response, 504, AsyncClientWait.gatewayTimeout(backendId, settings.responseTimeout()));
      return;
    }
    if (relayed.get().failure() != null) {
      // The relay broke off mid-way: the container aborts the client's connection.
      end.failure = AsyncClientWait.blame(relayed.get().failure());
      throw relayed.get().failure();
    }
    end.status = (int) relayed.get().result()[0];
    end.bytes = relayed.get().result()[1];
    if (!begun.get()) {
      end.failure = Failure.AGENT_GONE; // its response was unusable, and the client got the relay's 502
    }
  }

  /** How a relay on the client's thread ended, for the observer: status and bytes sent, or the failure. */
  private static final class Ending {
    int status;
    long bytes;
    Failure failure;
  }

  /** Answers an upgrade that cannot reach {@code backend}: malformed (400) or not carried (501); true when it did. */
  private boolean refusedUpgrade(WebSocketHandshake handshake, BackendRecord backend, HttpServletResponse response,
      ObservedExchange exchange) throws IOException {
    int refusal = handshake.problem() != null ? 400 : webSockets == null
        || !webSockets.agentCarriesWebSockets(backend.id()) ? 501 : 0;
    if (refusal == 0) {
      return false;
    }
    PlainText.send(response, refusal, handshake.problem() != null ? "Bad request: " + handshake.problem()
        : webSockets == null ? "Not implemented: this proxy does not carry WebSocket upgrades"
            + " (run the agent with --shim-websockets to reach WebSockets through it)"
        : "Not implemented: the agent of backend \"" + backend.id() + "\" does not carry WebSocket upgrades"
            + " (it did not announce the websocket feature; an agent of this project does, or use --shim-websockets)");
    fail(exchange, Failure.REFUSED, refusal);
    return true;
  }

  /**
   * Gives back the body's memory; then throws {@code e} on when it is unchecked (a fault of this proxy),
   * or else answers the client with {@code status} and ends the exchange as refused.
   */
  private void refuse(Exception e, BufferBudget.Reservation buffered, HttpServletResponse response,
      ObservedExchange exchange, int status, String prefix) throws IOException {
    release(buffered);
    if (e instanceof RuntimeException r) {
      throw r;
    }
    PlainText.send(response, status, prefix + e.getMessage());
    fail(exchange, Failure.REFUSED, status);
  }

  /** Ends an exchange that failed before the agent had anything to say. */
  private void fail(ObservedExchange exchange, Failure reason, int status) {
    observer.failed(exchange, reason, status);
    observer.finished(exchange, new Finished(status, exchange.requestBytes(), 0, exchange.elapsedNanos()));
  }

  private static void release(BufferBudget.Reservation buffered) {
    if (buffered != null) {
      buffered.release();
    }
  }

  /** The client's body broke off or is malformed: its fault (400), and its connection is not reusable. */
  private static void badClientBody(HttpServletResponse response, ClientBodyException e) throws IOException {
    response.setHeader("Connection", "close");
    PlainText.send(response, 400, "Bad request: " + e.getMessage());
  }

  /** How a relay ended: the status and bytes sent, or the I/O failure that broke it off. */
  private record Relayed(long[] result, IOException failure) {
    interface Relay {
      long[] run() throws IOException;
    }

    static Relayed of(Relay relay) {
      try {
        return new Relayed(relay.run(), null);
      } catch (IOException e) {
        return new Relayed(null, e);
      }
    }
  }
}
