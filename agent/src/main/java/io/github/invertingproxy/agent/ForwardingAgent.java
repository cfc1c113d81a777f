package io.github.invertingproxy.agent;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.channel.HeldRequests;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.html.HtmlInjection;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.proxy.ProxyTrust;
import io.github.invertingproxy.agent.websocket.AgentWebSockets;
import io.github.invertingproxy.agent.websocket.ShimScript;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.protocol.ChannelFrame;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;

/**
 * The forwarding agent: polls the inverting proxy for client requests addressed to one backend,
 * replays each against the backend and streams the response back (PROTOCOL.md). It only ever makes
 * outbound connections.
 *
 * <pre>{@code
 * ForwardingAgent agent = ForwardingAgent.builder()
 *     .proxyUrl("https://proxy.example.com/")
 *     .backendId("my-notebook")
 *     .target("localhost:8080")
 *     .build();
 * agent.start();
 * ...
 * agent.close(); // stops polling; lets requests in flight finish for a few seconds
 * }</pre>
 */
public final class ForwardingAgent implements Closeable {
  static final String DEFAULT_TARGET = "localhost:8080";
  static final Duration DEFAULT_PROXY_TIMEOUT = Duration.ofSeconds(60);
  static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 64;
  static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(5);

  private final AgentSettings settings;
  private final Object lock = new Object();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean closing;
  private volatile RunningAgent running;

  private ForwardingAgent(AgentSettings settings) {
    this.settings = settings;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The proxy's agent-facing base URL, ending with {@code /}. */
  public String proxyUrl() {
    return settings.proxyUrl().url();
  }

  public String backendId() {
    return settings.backendId();
  }

  /** The backend's {@code host:port}. */
  public String target() {
    return settings.target().authority();
  }

  /** The agent's WebSockets (native relays and shim sessions); null when off or not started. */
  public AgentWebSockets webSockets() {
    RunningAgent r = running;
    return r == null ? null : r.webSockets();
  }

  /**
   * Starts polling on background (daemon) threads and returns at once.
   *
   * @throws IllegalStateException when started before, or closed
   */
  public void start() {
    synchronized (lock) {
      if (running != null || closing) {
        throw new IllegalStateException(closing ? "agent is closed" : "agent is already started");
      }
      running = new RunningAgent(settings, this::close);
    }
  }

  /**
   * Stops polling, waits up to the shutdown grace period for requests in flight, then cuts off the
   * rest and closes every connection. Returns once done; closing again does nothing.
   */
  @Override
  public void close() {
    RunningAgent r;
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
      r = running;
    }
    try {
      if (r != null) {
        r.close();
      }
    } finally {
      stopped.countDown();
    }
  }

  /** Blocks until {@link #close} has finished. */
  void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  /** True when the agent stopped because of an unexpected error rather than a call to close. */
  boolean failed() {
    RunningAgent r = running;
    return r != null && r.failed();
  }

  // Package-private views of the running parts, which the agent's tests watch.

  int idleBackendConnections() {
    RunningAgent r = running;
    return r == null ? 0 : r.idleBackendConnections();
  }

  HeldRequests heldRequests() {
    RunningAgent r = running;
    return r == null ? null : r.heldRequests();
  }

  boolean channelOpen() {
    RunningAgent r = running;
    return r != null && r.channelOpen();
  }

  /** Configures a {@link ForwardingAgent}; {@link #proxyUrl} and {@link #backendId} are required. */
  public static final class Builder {
    private Origin.ProxyBase proxyUrl;
    private String backendId;
    private Origin target = Origin.parseBackend(DEFAULT_TARGET);
    private ProxyCredentials credentials = ProxyCredentials.none();
    private Duration proxyTimeout = DEFAULT_PROXY_TIMEOUT;
    private Duration requestForwardingTimeout = Duration.ZERO;
    private boolean forwardUserId;
    private boolean stripCredentials;
    private boolean disableSslForTest;
    private SSLContext proxyTrust;
    private int maxConcurrentRequests = DEFAULT_MAX_CONCURRENT_REQUESTS;
    private long maxBufferedBytes = HeldRequests.defaultLimit();
    private Duration shutdownGracePeriod = DEFAULT_SHUTDOWN_GRACE_PERIOD;
    private final List<HtmlSnippet> htmlSnippets = new ArrayList<>();
    private AgentSettings.Sessions sessionOptions;
    private WebSocketOptions webSocketOptions = WebSocketOptions.defaults();
    private AgentSettings.HealthCheckSettings healthCheckOptions;
    private boolean forceHttp2;
    private boolean chainRequests = true;
    private boolean channel = true;
    private boolean backendSelector = true;

    private AgentObserver observer = AgentObserver.NONE;

    private Builder() {}

    /** Told what happens to each request, of failed proxy calls and of credential refreshes (the metrics). */
    public Builder observer(AgentObserver observer) {
      this.observer = requireNonNull(observer, "observer");
      return this;
    }

    /**
     * Takes small requests over one {@code agent/channel} WebSocket when the proxy offers it (the
     * {@code channel} extension, docs/protocol.md), answering each in one frame when its response is
     * small and complete; polling goes on as before. A proxy without the extension (the original)
     * never offers it, and nothing changes. On by default; false announces nothing and never dials.
     */
    public Builder channel(boolean channel) {
      this.channel = channel;
      return this;
    }

    /**
     * Sends the small requests that come over the channel to a plain-HTTP backend from one selector
     * thread, without a thread per exchange, and reads their small responses there; on by default.
     * False gives every channel request a request thread and a pooled connection, as for a polled one.
     * TLS backends, {@link #forceHttp2} and upgrades never use the selector.
     */
    public Builder backendSelector(boolean backendSelector) {
      this.backendSelector = backendSelector;
      return this;
    }

    /**
     * Takes the next waiting request from the proxy's answer to each response, when the proxy offers
     * one (the {@code next-request} extension, docs/protocol.md): under load most requests then cost
     * one call to the proxy instead of three, and run on the thread that just finished a response.
     * A proxy without the extension (the original) ignores the offer. On by default.
     */
    public Builder chainRequests(boolean chainRequests) {
      this.chainRequests = chainRequests;
      return this;
    }

    /**
     * Checks {@code GET http://TARGET/PATH} every {@code interval}, as the original's
     * {@code --health-check-*} flags: no polling before a first 200, and after {@code unhealthyThreshold}
     * failed checks in a row the agent stops (the command line then exits with status 1).
     */
    public Builder healthCheck(String path, Duration interval, int unhealthyThreshold) {
      this.healthCheckOptions = new AgentSettings.HealthCheckSettings(path, interval, unhealthyThreshold);
      return this;
    }

    /**
     * Speaks HTTP/2 to the backend without TLS and without an upgrade ("prior knowledge" h2c), as the
     * original's {@code --force-http2}; for backends such as gRPC-web servers that only speak HTTP/2.
     */
    public Builder forceHttp2(boolean forceHttp2) {
      this.forceHttp2 = forceHttp2;
      return this;
    }

    /**
     * Inserts HTML into the backend's HTML pages, right after the opening {@code <head>} tag; snippets
     * go in the order they were added. See {@link HtmlInjection} for which responses qualify (HTML,
     * 2xx, gzip and deflate decoded, others untouched) and how the body is rewritten while it streams.
     * The snippet may return {@code ""} for responses it does not want to change.
     */
    public Builder injectHtml(HtmlSnippet snippet) {
      htmlSnippets.add(requireNonNull(snippet, "snippet"));
      return this;
    }

    /**
     * How WebSockets are carried: natively through a proxy that supports it (on by default), and the
     * original's shim ({@link WebSocketOptions#withShim}); null carries none (upgrades are then
     * forwarded like any request, as by the original agent without a shim).
     */
    public Builder webSockets(WebSocketOptions options) {
      this.webSocketOptions = options;
      return this;
    }

    /**
     * Keeps the cookies the backend sets in server-side sessions, and gives each browser one cookie
     * named {@code cookieName} instead, valid for {@code timeout}; at most {@code limit} sessions are
     * kept, the least recently used dropped first (the original's {@code --session-cookie-*} flags).
     */
    public Builder sessionCookies(String cookieName, Duration timeout, int limit) {
      this.sessionOptions = new AgentSettings.Sessions(cookieName, timeout, limit);
      return this;
    }

    /**
     * The proxy's agent-facing base URL, {@code http://} or {@code https://}; a missing final
     * {@code /} is added.
     *
     * @throws IllegalArgumentException naming what is wrong with the URL
     */
    public Builder proxyUrl(String proxyUrl) {
      this.proxyUrl = Origin.parseProxyUrl(requireNonNull(proxyUrl, "proxyUrl"));
      return this;
    }

    /** The backend id this agent serves, sent as {@code X-Inverting-Proxy-Backend-ID}. */
    public Builder backendId(String backendId) {
      requireNonNull(backendId, "backendId");
      if (backendId.isEmpty() || backendId.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
        throw new IllegalArgumentException("backend id \"" + backendId
            + "\" must be non-empty, without spaces or control characters");
      }
      this.backendId = backendId;
      return this;
    }

    /**
     * The backend, {@code host:port} (or {@code http://host:port}); {@code localhost:8080} by default.
     *
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public Builder target(String hostAndPort) {
      this.target = Origin.parseBackend(requireNonNull(hostAndPort, "hostAndPort"));
      return this;
    }

    /** How to authenticate to the proxy; {@link ProxyCredentials#none()} by default. */
    public Builder credentials(ProxyCredentials credentials) {
      this.credentials = requireNonNull(credentials, "credentials");
      return this;
    }

    /** Client timeout for proxy calls (the long poll's included); 60 s by default. */
    public Builder proxyTimeout(Duration proxyTimeout) {
      requireNonNull(proxyTimeout, "proxyTimeout");
      if (proxyTimeout.isNegative() || proxyTimeout.isZero()) {
        throw new IllegalArgumentException("proxy timeout must be positive, was " + proxyTimeout);
      }
      this.proxyTimeout = proxyTimeout;
      return this;
    }

    /**
     * The most one request may take at the backend, from connecting to the end of the response body;
     * zero (the default) for no limit. Past it the agent answers 502, or cuts a response off.
     */
    public Builder requestForwardingTimeout(Duration requestForwardingTimeout) {
      requireNonNull(requestForwardingTimeout, "requestForwardingTimeout");
      if (requestForwardingTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "request forwarding timeout must not be negative, was " + requestForwardingTimeout);
      }
      this.requestForwardingTimeout = requestForwardingTimeout;
      return this;
    }

    /** Adds {@code X-Inverting-Proxy-User-ID} (the end user's email) to backend requests. */
    public Builder forwardUserId(boolean forwardUserId) {
      this.forwardUserId = forwardUserId;
      return this;
    }

    /** Removes the {@code Authorization} header from backend requests, as the original's flag does. */
    public Builder stripCredentials(boolean stripCredentials) {
      this.stripCredentials = stripCredentials;
      return this;
    }

    /** Accepts any certificate from an https proxy. For tests against a self-signed proxy only. */
    public Builder disableSslForTest(boolean disableSslForTest) {
      this.disableSslForTest = disableSslForTest;
      return this;
    }

    /**
     * The authorities an https proxy's certificate (and a {@code wss://} peer's) may come from, as made
     * by {@link ProxyTrust#systemAnd}; null (the default) trusts the JVM's own trust store.
     */
    public Builder proxyTrust(SSLContext proxyTrust) {
      this.proxyTrust = proxyTrust;
      return this;
    }

    /** How many requests are forwarded at once; more wait their turn. 64 by default. */
    public Builder maxConcurrentRequests(int maxConcurrentRequests) {
      if (maxConcurrentRequests < 1) {
        throw new IllegalArgumentException("max concurrent requests must be at least 1, was " + maxConcurrentRequests);
      }
      this.maxConcurrentRequests = maxConcurrentRequests;
      return this;
    }

    /**
     * Most bytes of requests taken whole from the channel that may wait for a thread; while they fill
     * it the channel is read no further. A quarter of the heap by default; at least one frame.
     */
    public Builder maxBufferedBytes(long maxBufferedBytes) {
      if (maxBufferedBytes < ChannelFrame.MAX_FRAME_BYTES) {
        throw new IllegalArgumentException("max buffered bytes must be at least one channel frame ("
            + ChannelFrame.MAX_FRAME_BYTES + "), was " + maxBufferedBytes);
      }
      this.maxBufferedBytes = maxBufferedBytes;
      return this;
    }

    /** How long {@link ForwardingAgent#close} lets requests in flight finish; 5 s by default. */
    public Builder shutdownGracePeriod(Duration shutdownGracePeriod) {
      requireNonNull(shutdownGracePeriod, "shutdownGracePeriod");
      if (shutdownGracePeriod.isNegative()) {
        throw new IllegalArgumentException("shutdown grace period must not be negative, was " + shutdownGracePeriod);
      }
      this.shutdownGracePeriod = shutdownGracePeriod;
      return this;
    }

    /** @throws IllegalStateException when the proxy URL or the backend id is missing */
    public ForwardingAgent build() {
      if (proxyUrl == null) {
        throw new IllegalStateException("proxyUrl is required");
      }
      if (backendId == null) {
        throw new IllegalStateException("backendId is required");
      }
      List<HtmlSnippet> snippets = new ArrayList<>(htmlSnippets);
      if (webSocketOptions != null && webSocketOptions.injectsShim()) {
        snippets.add(ShimScript.snippet(webSocketOptions.shimPath()));
      }
      return new ForwardingAgent(new AgentSettings(proxyUrl, backendId, target, credentials, proxyTimeout,
          requestForwardingTimeout, forwardUserId, stripCredentials, disableSslForTest, proxyTrust,
          maxConcurrentRequests, maxBufferedBytes, shutdownGracePeriod, snippets, sessionOptions, healthCheckOptions,
          forceHttp2, chainRequests, channel, backendSelector, webSocketOptions, observer));
    }
  }
}
