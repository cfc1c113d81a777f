package io.github.invertingproxy.server.websocket;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.websocket.WebSocketGateway;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.ResponseHead;
import io.github.invertingproxy.protocol.WebSocketExtension;
import io.github.invertingproxy.websocket.Leg;
import io.github.invertingproxy.websocket.RelayLimits;
import io.github.invertingproxy.websocket.Relays;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee8.nested.HttpChannel;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.exception.WebSocketException;
import org.eclipse.jetty.websocket.core.server.Handshaker;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;

/**
 * The stand-alone server's WebSocket upgrades, on Jetty's frame-level WebSocket API: the agents' own
 * sockets ({@code agent/websocket}) and the clients' upgraded connections, joined frame by frame by a
 * {@link io.github.invertingproxy.websocket.FrameRelay}. No extension is negotiated on either socket
 * (a client's {@code permessage-deflate} offer is answered without it), so frames cross unchanged.
 */
public final class JettyWebSocketGateway implements WebSocketGateway, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(JettyWebSocketGateway.class.getName());
  /** How long a client's upgrade waits for the agent's socket to finish opening after the agent's 101. */
  private static final Duration AGENT_OPEN_WAIT = Duration.ofSeconds(10);
  /**
   * How long an agent's socket waits for its upgrade to be expected: the request is visible to agents
   * as soon as it is submitted, a moment before its servlet call registers the upgrade.
   */
  private static final Duration EXPECT_WAIT = Duration.ofSeconds(2);

  private final Map<String, Boolean> features = new ConcurrentHashMap<>();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  /** Agents' sockets that came before their upgrade was expected, each waiting on its request id. */
  private final Map<String, CompletableFuture<Pending>> early = new ConcurrentHashMap<>();
  private final Relays relays;
  private final Handshaker handshaker = Handshaker.newInstance();
  private final WebSocketComponents components;
  private final ChannelDelivery channelStore;
  private final Set<AgentChannel> channels = ConcurrentHashMap.newKeySet();

  private static final class Pending {
    final String backendId;
    final AtomicReference<Leg> agent = new AtomicReference<>();
    volatile boolean joined;

    Pending(String backendId) {
      this.backendId = backendId;
    }
  }

  public JettyWebSocketGateway(Server server, RelayLimits limits) {
    this(server, limits, null);
  }

  /**
   * @param channelStore where agents' channels ({@code agent/channel}) take their requests from;
   *     null takes no channels
   */
  public JettyWebSocketGateway(Server server, RelayLimits limits, ChannelDelivery channelStore) {
    this.components = WebSocketServerComponents.ensureWebSocketComponents(requireNonNull(server, "server"));
    this.relays = new Relays(requireNonNull(limits, "limits"), "proxy-websocket-keepalive");
    this.channelStore = channelStore;
  }

  /** Agent channels open now. An observation point: from outside, the only sign that a channel has closed. */
  public int channelCount() {
    return channels.size();
  }

  @Override
  public boolean carriesChannels() {
    return channelStore != null;
  }

  @Override
  public void acceptChannel(HttpServletRequest request, HttpServletResponse response, String backendId,
      BooleanSupplier mayServe) throws IOException {
    if (channelStore == null) {
      PlainText.send(response, 404, "Not found: this proxy takes no agent channels");
      return;
    }
    AgentChannel channel = new AgentChannel(backendId, mayServe, channelStore, relays.timer(), channels::remove);
    channels.add(channel);
    String problem = upgrade(request, response, channel, null);
    if (problem != null) {
      channels.remove(channel);
      if (!response.isCommitted()) {
        PlainText.send(response, 400, "Bad request: " + problem);
      }
    }
  }

  /** The open relays, which the metrics' open-WebSockets gauge counts. */
  public Relays relays() {
    return relays;
  }

  /** Upgrades that wait for their agent or their client. */
  public int pendingCount() {
    return pending.size();
  }

  @Override
  public void agentPolled(String backendId, String announced) {
    features.put(backendId, AgentFeatures.lists(announced, AgentFeatures.WEBSOCKET));
  }

  @Override
  public boolean agentCarriesWebSockets(String backendId) {
    return features.getOrDefault(backendId, false);
  }

  @Override
  public void expect(String backendId, String requestId) {
    Pending p = new Pending(backendId);
    pending.put(requestId, p);
    CompletableFuture<Pending> waiting = early.get(requestId);
    if (waiting != null) {
      waiting.complete(p);
    }
  }

  @Override
  public void acceptAgent(HttpServletRequest request, HttpServletResponse response, String backendId,
      String requestId) throws IOException {
    Pending p = awaitExpected(requestId);
    if (p == null || !p.backendId.equals(backendId)) {
      PlainText.send(response, 404, "Not found: no WebSocket upgrade is waiting for request " + requestId
          + " of backend \"" + backendId + "\"");
      return;
    }
    Leg agent = relays.leg("agent", CloseStatus.SERVER_ERROR);
    if (!p.agent.compareAndSet(null, agent)) {
      PlainText.send(response, 409, "Conflict: request " + requestId + " already has its agent WebSocket");
      return;
    }
    String problem = upgrade(request, response, agent, null);
    if (problem != null) {
      p.agent.compareAndSet(agent, null);
      if (!response.isCommitted()) {
        PlainText.send(response, 400, "Bad request: " + problem);
      }
      return;
    }
    if (!pending.containsKey(requestId)) {
      // The client gave up while the agent's socket was opening.
      agent.close(CloseStatus.SHUTDOWN, "client went away");
    }
  }

  /**
   * The upgrade waiting for {@code requestId}, once expected; null when it is not within {@link #EXPECT_WAIT}.
   * The socket waits without polling: {@link #expect} completes what it finds in {@link #early}, and the
   * second look at {@link #pending} catches an {@code expect} that ran before the socket registered there.
   */
  private Pending awaitExpected(String requestId) throws IOException {
    Pending p = pending.get(requestId);
    if (p != null) {
      return p;
    }
    CompletableFuture<Pending> mine = new CompletableFuture<>();
    CompletableFuture<Pending> waiting = early.putIfAbsent(requestId, mine);
    if (waiting == null) {
      waiting = mine;
    }
    try {
      p = pending.get(requestId);
      return p != null ? p : waiting.get(EXPECT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for upgrade " + requestId);
    } finally {
      early.remove(requestId, mine);
    }
  }

  @Override
  public int acceptClient(HttpServletRequest request, HttpServletResponse response, String requestId,
      ResponseHead agentHead, String label) throws IOException {
    Pending p = pending.get(requestId);
    Leg agent = p == null ? null : p.agent.get();
    if (agent == null) {
      PlainText.send(response, 502, "Bad gateway: the agent answered 101 but opened no WebSocket ("
          + WebSocketExtension.AGENT_PATH + ") for this request");
      return 502;
    }
    try {
      agent.opened().get(AGENT_OPEN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      PlainText.send(response, 502, "Bad gateway: the agent's WebSocket for this request did not open");
      return 502;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      agent.close(CloseStatus.SHUTDOWN, "proxy shutting down");
      PlainText.send(response, 503, "Service unavailable: the proxy is shutting down");
      return 503;
    }
    Leg client = relays.leg("client", CloseStatus.SHUTDOWN);
    String problem = upgrade(request, response, client, agentHead);
    if (problem != null) {
      agent.close(CloseStatus.SERVER_ERROR, "the client's upgrade failed at the proxy");
      if (!response.isCommitted()) {
        PlainText.send(response, 502, "Bad gateway: " + problem);
      }
      return 502;
    }
    p.joined = true;
    client.opened().whenComplete((session, failure) -> {
      if (failure != null) {
        agent.close(CloseStatus.SHUTDOWN, "client went away");
      } else {
        relays.join(label, client, agent);
      }
    });
    return 101;
  }

  @Override
  public void forget(String requestId) {
    Pending p = pending.remove(requestId);
    if (p != null && !p.joined) {
      Leg agent = p.agent.get();
      if (agent != null) {
        agent.close(CloseStatus.SHUTDOWN, "client went away");
      }
    }
  }

  /**
   * Upgrades the servlet request's connection to a WebSocket handled by {@code leg}, answering with
   * the backend's subprotocol and end-to-end headers from {@code agentHead} when given.
   *
   * @return null when upgraded, else why not
   */
  private String upgrade(HttpServletRequest request, HttpServletResponse servletResponse, FrameHandler leg,
      ResponseHead agentHead) throws IOException {
    HttpChannel channel = (HttpChannel) request.getAttribute(HttpChannel.class.getName());
    if (channel == null) {
      return "this connection cannot be upgraded";
    }
    Request coreRequest = channel.getCoreRequest();
    Response coreResponse = channel.getCoreResponse();
    if (!handshaker.isWebSocketUpgradeRequest(coreRequest)) {
      return "not a WebSocket version 13 handshake";
    }
    WebSocketNegotiator negotiator = new WebSocketNegotiator.AbstractNegotiator() {
      @Override
      public FrameHandler negotiate(ServerUpgradeRequest upgradeRequest, ServerUpgradeResponse upgradeResponse,
          Callback callback) {
        upgradeResponse.setExtensions(List.of());
        if (agentHead != null) {
          agentHead.headers().first("Sec-WebSocket-Protocol").ifPresent(upgradeResponse::setAcceptedSubProtocol);
          for (HeaderField f : HopByHopHeaders.strip(agentHead.headers())) {
            String name = f.name().toLowerCase(Locale.ROOT);
            if (!name.startsWith("sec-websocket-") && !name.equals("content-length")
                && !ProtocolHeaders.isProtocolHeader(f.name())) {
              upgradeResponse.getHeaders().add(f.name(), f.value());
            }
          }
        }
        return leg;
      }
    };
    FutureCallback callback = new FutureCallback();
    try {
      if (!handshaker.upgradeRequest(negotiator, coreRequest, coreResponse, callback, components, null)) {
        return "not a complete WebSocket handshake";
      }
      callback.block();
      return null;
    } catch (WebSocketException e) {
      LOG.log(Level.FINE, "WebSocket upgrade refused", e);
      return e.getMessage();
    }
  }

  /** Closes every relayed socket with 1001 and waits a little for the close handshakes. */
  public void shutDown(Duration grace) {
    relays.closeAll(CloseStatus.SHUTDOWN, "proxy shutting down");
    channels.forEach(AgentChannel::shutDown);
    for (Pending p : pending.values()) {
      Leg agent = p.agent.get();
      if (agent != null && !p.joined) {
        agent.close(CloseStatus.SHUTDOWN, "proxy shutting down");
      }
    }
    try {
      relays.awaitNoneOpen(grace.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    relays.close();
  }
}
