package io.github.invertingproxy.agent.websocket;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import io.github.invertingproxy.protocol.WebSocketExtension;
import io.github.invertingproxy.websocket.Leg;
import io.github.invertingproxy.websocket.Relays;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.websocket.core.CloseStatus;

/**
 * The agent's WebSockets: upgrades carried natively through a proxy that supports them (the agent
 * dials the backend, opens its own WebSocket to {@code agent/websocket} for the exchange, answers with
 * the backend's {@code 101}, then relays frame by frame), and the original agent's shim endpoints.
 * Sockets cost no thread: a request thread is held only while a socket is being set up, or while a
 * shim call waits.
 */
public final class AgentWebSockets implements Closeable {
  private static final Logger LOG = Logger.getLogger(AgentWebSockets.class.getName());
  private static final String USER_AGENT = "inverting-proxy-agent-java";

  private final WebSocketOptions options;
  private final URI proxyBase;
  private final String backendId;
  private final ProxyCredentials credentials;
  private final String backendAuthority;
  private final Dialer dialer;
  private final Relays relays;
  private final ShimEndpoints shim;

  /**
   * @param proxyUrl the proxy's agent-facing base URL, ending with {@code /}
   * @param backendAuthority the backend's {@code host:port}
   * @param dialer the agent's WebSocket client, started and closed by its owner (after {@link #close})
   */
  public AgentWebSockets(WebSocketOptions options, String proxyUrl, String backendId, ProxyCredentials credentials,
      String backendAuthority, Dialer dialer) {
    this.options = requireNonNull(options, "options");
    this.proxyBase = URI.create(requireNonNull(proxyUrl, "proxyUrl"));
    this.backendId = requireNonNull(backendId, "backendId");
    this.credentials = requireNonNull(credentials, "credentials");
    this.backendAuthority = requireNonNull(backendAuthority, "backendAuthority");
    this.dialer = requireNonNull(dialer, "dialer");
    this.relays = new Relays(options.limits(), "inverting-proxy-agent-websocket-keepalive");
    this.shim = options.servesShim() ? new ShimEndpoints(options, dialer, backendAuthority) : null;
  }

  public WebSocketOptions options() {
    return options;
  }

  /** Starts the shim's housekeeping; the dialer is started by its owner. */
  public void start() {
    if (shim != null) {
      shim.start();
    }
  }

  /** The {@code X-Inverting-Proxy-Agent-Features} value for polls, or null to announce nothing. */
  public String features() {
    return options.nativeUpgrades() ? AgentFeatures.WEBSOCKET : null;
  }

  /** Natively relayed sockets not yet closed on both sides. */
  public int openRelays() {
    return relays.openCount();
  }

  /** The relays open now, and the most bytes any one has held: what the WebSockets cost in memory. */
  public Relays relays() {
    return relays;
  }

  /** Shimmed sockets that are open. */
  public int shimSessions() {
    return shim == null ? 0 : shim.sessionCount();
  }

  /** Whether {@link #handle} serves this request: a WebSocket upgrade (native upgrades on) or a shim call. */
  public boolean wants(RequestHead original) {
    return isUpgrade(original) || (shim != null && shim.handles(original.path()));
  }

  private boolean isUpgrade(RequestHead original) {
    return options.nativeUpgrades() && original.method().equals("GET")
        && WebSocketExtension.asksForWebSocket(original.headers());
  }

  /**
   * Serves a request that {@link #wants}: answers it through {@code poster} (a 101 once the backend's
   * and the proxy's sockets are open, or an error), then relays the sockets.
   *
   * @param original the request as the proxy sent it
   * @param prepared the request as the backend would get it (hop-by-hop fields gone, flags applied)
   * @param body the request's body, unread
   * @param bodyRead run once the whole body has been read (the proxy connection may then be reused)
   */
  public void handle(String requestId, RequestHead original, RequestHead prepared, InputStream body,
      Runnable bodyRead, ResponsePoster poster) throws IOException {
    if (isUpgrade(original)) {
      // A handshake has no body; one that came anyway is read and dropped, up to a little.
      if (body.readNBytes(64 * 1024).length < 64 * 1024 && body.read() < 0) {
        bodyRead.run();
      }
      upgrade(requestId, prepared, poster);
    } else {
      shim.serve(requestId, original, prepared, body, bodyRead, poster);
    }
  }

  // Whole on purpose: dial, answer 101 or the failure, then relay; each failure is answered where it happens.
  private void upgrade(String requestId, RequestHead prepared, ResponsePoster poster) throws IOException {
    long started = System.nanoTime();
    String id = requestId.length() <= 12 ? requestId : requestId.substring(0, 12);
    String what = "websocket " + id + ": GET " + prepared.path();
    Leg backend = relays.leg("backend", CloseStatus.SERVER_ERROR);
    Dialer.Dialed dialed;
    try {
      URI uri = new URI("ws://" + backendAuthority + prepared.target());
      dialed = dialer.dial(uri, backend, forwardedFields(prepared.headers()),
          prepared.headers().first("Host").orElse(null), subprotocols(prepared.headers()));
    } catch (URISyntaxException e) {
      answer(poster, 400, "Bad Request", "inverting-proxy agent: unusable WebSocket target: " + e.getMessage());
      LOG.warning(what + " -> 400: " + e.getMessage());
      return;
    } catch (Dialer.Refused e) {
      int status = e.status > 0 ? e.status : 502;
      answer(poster, status, status == 502 ? "Bad Gateway" : "WebSocket handshake refused",
          "inverting-proxy agent: " + e.getMessage());
      LOG.warning(what + " -> " + status + ": " + e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    Leg proxy = relays.leg("proxy", CloseStatus.SHUTDOWN);
    try {
      List<HeaderField> fields = new ArrayList<>();
      fields.add(new HeaderField(ProtocolHeaders.BACKEND_ID, backendId));
      fields.add(new HeaderField(ProtocolHeaders.REQUEST_ID, requestId));
      fields.add(new HeaderField("User-Agent", USER_AGENT));
      credentials.authorizationHeader().ifPresent(value -> fields.add(new HeaderField("Authorization", value)));
      String scheme = proxyBase.getScheme().equalsIgnoreCase("https") ? "wss" : "ws";
      URI uri = new URI(scheme + "://" + proxyBase.getRawAuthority() + proxyBase.getRawPath()
          + WebSocketExtension.AGENT_PATH);
      dialer.dial(uri, proxy, fields, null, List.of());
    } catch (URISyntaxException | IOException e) {
      backend.close(CloseStatus.SHUTDOWN, "proxy went away");
      answer(poster, 502, "Bad Gateway",
          "inverting-proxy agent: cannot open its WebSocket to the proxy: " + e.getMessage());
      LOG.warning(what + " -> 502: cannot open the agent's WebSocket to the proxy: " + e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      backend.close(CloseStatus.SHUTDOWN, "agent shutting down");
      return;
    }
    int status;
    try {
      status = poster.post(switchingProtocols(dialed.responseHeaders(), backend.subprotocol()), new byte[0]);
    } catch (IOException e) {
      backend.close(CloseStatus.SHUTDOWN, "proxy went away");
      proxy.close(CloseStatus.SHUTDOWN, "agent could not answer");
      throw e;
    }
    long millis = (System.nanoTime() - started) / 1_000_000;
    if (status != 200) {
      backend.close(CloseStatus.SHUTDOWN, "client went away");
      proxy.close(CloseStatus.SHUTDOWN, "client went away");
      LOG.info(what + " -> 101, but the client was gone (proxy answered " + status + "), " + millis + " ms");
      return;
    }
    relays.join(id + " GET " + prepared.path(), proxy, backend);
    LOG.info(what + " -> 101" + (backend.subprotocol() == null ? "" : " (" + backend.subprotocol() + ")")
        + ", " + millis + " ms");
  }

  /** The fields of a backend handshake: the client's end-to-end fields less those of its own handshake. */
  static List<HeaderField> forwardedFields(Headers headers) {
    List<HeaderField> kept = new ArrayList<>();
    for (HeaderField f : HopByHopHeaders.strip(headers)) {
      String name = f.name().toLowerCase(Locale.ROOT);
      if (name.startsWith("sec-websocket-") || name.equals("host") || name.equals("content-length")) {
        continue;
      }
      kept.add(f);
    }
    return kept;
  }

  private static List<String> subprotocols(Headers headers) {
    return headers.elements("Sec-WebSocket-Protocol");
  }

  /** The backend's 101 as the proxy should answer the client: its subprotocol and end-to-end fields. */
  private static ResponseHead switchingProtocols(HttpFields answer, String subprotocol) {
    List<HeaderField> fields = new ArrayList<>();
    for (HttpField f : answer) {
      String name = f.getName().toLowerCase(Locale.ROOT);
      if (name.startsWith("sec-websocket-") || HopByHopHeaders.isAlwaysHopByHop(name) || name.equals("content-length")
          || ProtocolHeaders.isProtocolHeader(name)) {
        continue;
      }
      try {
        fields.add(new HeaderField(f.getName(), f.getValue() == null ? "" : f.getValue()));
      } catch (IllegalArgumentException e) {
        LOG.log(Level.FINE, "dropped a field of the backend's handshake answer", e);
      }
    }
    if (subprotocol != null) {
      fields.add(new HeaderField("Sec-WebSocket-Protocol", subprotocol));
    }
    return new ResponseHead(101, "Switching Protocols", Headers.of(fields));
  }

  static void answer(ResponsePoster poster, int status, String reason, String text) throws IOException {
    byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
    poster.post(new ResponseHead(status, reason, Headers.of("Content-Type", "text/plain; charset=utf-8",
        "Content-Length", Integer.toString(body.length), "X-Content-Type-Options", "nosniff")), body);
  }

  /** Closes every socket (1001); the dialer is left to its owner. */
  @Override
  public void close() {
    relays.closeAll(CloseStatus.SHUTDOWN, "agent shutting down");
    if (shim != null) {
      shim.close();
    }
    try {
      relays.awaitNoneOpen(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    relays.close();
  }
}
