package io.github.invertingproxy.core.agent;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.core.observe.AgentCall;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.BackendRegistry;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.core.spi.TakenRequest;
import io.github.invertingproxy.core.websocket.WebSocketGateway;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.PendingRequestIds;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ServletInputStream;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The agent's three calls (PROTOCOL.md): {@code agent/pending}, {@code agent/request} and
 * {@code agent/response}, mapped at {@code /agent/*}; the answer to {@code agent/response} carries the
 * next waiting request to an agent that announces {@link AgentFeatures#NEXT_REQUEST}, and a poll that
 * announces {@link AgentFeatures#CHANNEL} is offered {@code agent/channel} when the gateway takes
 * channels. Every call must name a backend that the
 * caller's account may serve; otherwise 401, whether the record is missing or belongs to another
 * account, so that a caller learns nothing about other backends.
 */
public final class AgentEndpointServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = Logger.getLogger(AgentEndpointServlet.class.getName());

  private final transient BackendRegistry registry;
  private final transient ExchangeStore store;
  private final transient Identity identity;
  private final transient ProxySettings settings;
  private final transient WebSocketGateway webSockets;
  private final transient ExchangeObserver observer;

  /**
   * @param webSockets takes the agents' own WebSockets ({@code agent/websocket}) and their feature
   *     announcements; null serves the three calls only
   * @param observer is told of every answered call and of every request an agent takes
   */
  public AgentEndpointServlet(BackendRegistry registry, ExchangeStore store, Identity identity, ProxySettings settings,
      WebSocketGateway webSockets, ExchangeObserver observer) {
    this.webSockets = webSockets;
    this.observer = requireNonNull(observer, "observer");
    this.registry = requireNonNull(registry, "registry");
    this.store = requireNonNull(store, "store");
    this.identity = requireNonNull(identity, "identity");
    this.settings = requireNonNull(settings, "settings");
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String call = request.getPathInfo() == null ? "" : request.getPathInfo();
    boolean pending = call.equals("/pending");
    boolean get = call.equals("/request");
    boolean post = call.equals("/response");
    boolean webSocket = webSockets != null && call.equals("/websocket");
    boolean channel = webSockets != null && webSockets.carriesChannels() && call.equals("/channel");
    if (!pending && !get && !post && !webSocket && !channel) {
      PlainText.send(response, 404, "Not found: the agent calls are agent/pending, agent/request and agent/response");
      return;
    }
    AgentCall.Kind kind = pending ? AgentCall.Kind.PENDING : get ? AgentCall.Kind.REQUEST
        : post ? AgentCall.Kind.RESPONSE : webSocket ? AgentCall.Kind.WEBSOCKET : AgentCall.Kind.CHANNEL;
    try {
      serve(request, response, call, kind);
    } finally {
      // A held poll is answered later, always with 200 (or not at all when its agent left).
      String named = request.getHeader(ProtocolHeaders.BACKEND_ID);
      observer.agentCall(new AgentCall(kind, named == null ? "" : named, response.getStatus()));
    }
  }

  private void serve(HttpServletRequest request, HttpServletResponse response, String call, AgentCall.Kind kind)
      throws IOException {
    String method = request.getMethod();
    boolean pending = kind == AgentCall.Kind.PENDING;
    boolean get = kind == AgentCall.Kind.REQUEST;
    boolean post = kind == AgentCall.Kind.RESPONSE;
    boolean webSocket = kind == AgentCall.Kind.WEBSOCKET;
    boolean channel = kind == AgentCall.Kind.CHANNEL;
    if ((post && !method.equals("POST")) || (!post && !method.equals("GET"))) {
      response.setHeader("Allow", post ? "POST" : "GET");
      PlainText.send(response, 405, "Method not allowed: agent" + call + " takes " + (post ? "POST" : "GET"));
      return;
    }
    String backendId = request.getHeader(ProtocolHeaders.BACKEND_ID);
    if (backendId == null || backendId.isEmpty()) {
      PlainText.send(response, 400, "Bad request: missing header " + ProtocolHeaders.BACKEND_ID);
      return;
    }
    Optional<AgentAccount> account = identity.agentAccount(request);
    if (account.isEmpty()) {
      response.setHeader("WWW-Authenticate", "Bearer");
      PlainText.send(response, 401, "Unauthorized: missing or rejected agent credentials");
      return;
    }
    if (!registry.agentMayServe(account.get(), backendId)) {
      PlainText.send(response, 401, "Unauthorized: " + account.get() + " may not serve backend \"" + backendId + "\"");
      return;
    }
    if (pending) {
      registry.markSeen(backendId);
      if (webSockets != null) {
        String announced = request.getHeader(AgentFeatures.HEADER);
        webSockets.agentPolled(backendId, announced);
        if (webSockets.carriesChannels() && AgentFeatures.lists(announced, AgentFeatures.CHANNEL)) {
          response.setHeader(AgentFeatures.HEADER, AgentFeatures.CHANNEL);
        }
      }
      listPending(request, response, backendId);
      return;
    }
    if (channel) {
      AgentAccount caller = account.get();
      webSockets.acceptChannel(request, response, backendId, () -> registry.agentMayServe(caller, backendId));
      return;
    }
    String requestId = request.getHeader(ProtocolHeaders.REQUEST_ID);
    if (requestId == null || requestId.isEmpty()) {
      PlainText.send(response, 400, "Bad request: missing header " + ProtocolHeaders.REQUEST_ID);
      return;
    }
    if (webSocket) {
      webSockets.acceptAgent(request, response, backendId, requestId);
    } else if (get) {
      sendRequest(response, backendId, requestId);
    } else {
      acceptResponse(request, response, backendId, requestId);
    }
  }

  /**
   * {@code agent/response}: hands the agent's response to its exchange and answers the call, with the
   * next waiting request when the agent asked for one (next-request extension).
   */
  private void acceptResponse(HttpServletRequest request, HttpServletResponse response, String backendId,
      String requestId) throws IOException {
    ResponseOutcome outcome = store.respond(backendId, requestId, request.getInputStream());
    String message = switch (outcome) {
      case RELAYED -> "ok";
      case NO_WAITING_CLIENT, CLIENT_GONE -> "Not found: no client is waiting for request " + requestId;
      case MALFORMED -> "Bad request: the body is not a parseable HTTP response";
      case TRUNCATED -> "Bad request: the response body broke off";
    };
    response.setHeader(ProtocolHeaders.REQUEST_ID, requestId);
    // The relay stops at the end of the serialized response, and the end of this call's own
    // (chunked) body may still be on its way: a container that finds request content unread
    // closes the connection after answering, and an agent that reused it would fail its next
    // call. So read that end; when more is left (the relay failed, or an odd agent), say that
    // the connection closes rather than let the agent reuse one that is about to die.
    if (outcome != ResponseOutcome.RELAYED || !drain(request.getInputStream())) {
      response.setHeader("Connection", "close");
    } else if (AgentFeatures.lists(request.getHeader(AgentFeatures.HEADER), AgentFeatures.NEXT_REQUEST)) {
      // The agent is free and listening right now: give it the next waiting request, if any.
      Optional<TakenRequest> next = store.takeNext(backendId);
      if (next.isPresent()) {
        observer.taken(backendId, next.get().id());
        response.setHeader(AgentFeatures.NEXT_REQUEST_ID, next.get().id());
        try {
          writeRequest(response, next.get().request());
          return;
        } catch (IOException e) {
          if (response.isCommitted()) {
            throw e; // the container cuts the answer off, so the agent sees a broken request
          }
          // Its client left before any of it was written: answer about the relay alone.
          response.reset();
          response.setHeader(ProtocolHeaders.REQUEST_ID, requestId);
        }
      }
    }
    PlainText.send(response, outcome.status(), message);
  }

  /** Reads what is left of a call's body, if it is at most a few KiB; true when it reached the end. */
  private static boolean drain(ServletInputStream in) {
    byte[] buffer = new byte[512];
    try {
      for (int total = 0; total <= 8192; ) {
        int n = in.read(buffer);
        if (n < 0) {
          return true;
        }
        total += n;
      }
    } catch (IOException e) {
      // The connection is broken anyway.
    }
    return false;
  }

  private void sendRequest(HttpServletResponse response, String backendId, String requestId) throws IOException {
    Optional<ExchangeRequest> exchange = store.take(backendId, requestId);
    if (exchange.isEmpty()) {
      PlainText.send(response, 404, "Not found: no pending request " + requestId + " for backend \"" + backendId + "\"");
      return;
    }
    observer.taken(backendId, requestId);
    response.setHeader(ProtocolHeaders.REQUEST_ID, requestId);
    writeRequest(response, exchange.get());
  }

  /** A 200 answer whose body is the client's request, as {@code agent/request} gives it. */
  private static void writeRequest(HttpServletResponse response, ExchangeRequest r) throws IOException {
    response.setStatus(200);
    response.setHeader(ProtocolHeaders.USER_ID, r.user());
    response.setHeader(ProtocolHeaders.REQUEST_START_TIME, RequestStartTime.format(r.startTime()));
    r.writeTo(response.getOutputStream());
  }

  /** Holds the poll asynchronously, so that idle agents cost no thread. */
  private void listPending(HttpServletRequest request, HttpServletResponse response, String backendId)
      throws IOException {
    CompletableFuture<List<String>> ids = store.awaitPending(backendId, settings.pendingTimeout());
    if (ids.isDone() || !request.isAsyncSupported()) {
      try {
        writeIds(response, ids.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ids.cancel(false);
        writeIds(response, List.of());
      } catch (ExecutionException e) {
        throw new IOException("waiting for pending requests failed", e.getCause());
      }
      return;
    }
    AsyncContext async = request.startAsync();
    // The store ends the wait itself; this is only a backstop.
    async.setTimeout(settings.pendingTimeout().toMillis() + 30_000);
    AtomicBoolean done = new AtomicBoolean();
    async.addListener(new AsyncListener() {
      @Override
      public void onComplete(AsyncEvent event) {
        ids.cancel(false);
      }

      @Override
      public void onTimeout(AsyncEvent event) {
        ids.cancel(false);
        if (done.compareAndSet(false, true)) {
          async.complete();
        }
      }

      @Override
      public void onError(AsyncEvent event) {
        ids.cancel(false);
      }

      @Override
      public void onStartAsync(AsyncEvent event) {}
    });
    ids.whenComplete((list, failure) -> {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      try {
        if (failure == null) {
          writeIds((HttpServletResponse) async.getResponse(), list);
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINE, "could not answer a pending poll of backend " + backendId, e);
      } finally {
        async.complete();
      }
    });
  }

  private static void writeIds(HttpServletResponse response, List<String> ids) throws IOException {
    byte[] body = PendingRequestIds.toJson(ids).getBytes(StandardCharsets.UTF_8);
    response.setStatus(200);
    response.setDateHeader("Date", System.currentTimeMillis());
    response.setContentType("application/json");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
