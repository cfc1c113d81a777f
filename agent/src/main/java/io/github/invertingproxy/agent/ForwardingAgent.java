package io.github.invertingproxy.agent;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.html.HtmlInjection;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import io.github.invertingproxy.agent.websocket.AgentWebSockets;
import io.github.invertingproxy.agent.websocket.Dialer;
import io.github.invertingproxy.agent.websocket.ShimScript;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.GoDuration;
import io.github.invertingproxy.protocol.MessageLimits;
import java.io.Closeable;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;

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
  private static final Logger LOG = Logger.getLogger(ForwardingAgent.class.getName());

  static final String DEFAULT_TARGET = "localhost:8080";
  static final Duration DEFAULT_PROXY_TIMEOUT = Duration.ofSeconds(60);
  static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 64;
  static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(5);
  private static final Duration BACKEND_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration MAX_PROXY_CONNECT_TIMEOUT = Duration.ofSeconds(30);
  private static final long IDLE_CHECK_SECONDS = 5;
  private static final int BACKEND_BUFFER_SIZE = 64 * 1024;

  private final Origin.ProxyBase proxyUrl;
  private final String backendId;
  private final Origin target;
  private final ProxyCredentials credentials;
  private final Duration proxyTimeout;
  private final Duration requestForwardingTimeout;
  private final boolean forwardUserId;
  private final boolean stripCredentials;
  private final boolean disableSslForTest;
  private final SSLContext proxyTrust;
  private final int maxConcurrentRequests;
  private final HeldRequests heldRequests;
  private final Duration shutdownGracePeriod;
  private final List<HtmlSnippet> htmlSnippets;
  private final SessionOptions sessionOptions;
  private final HealthCheckOptions healthCheckOptions;
  private final boolean forceHttp2;
  private final boolean chainRequests;
  private final boolean channel;
  private final WebSocketOptions webSocketOptions;

  private final Object lock = new Object();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean started;
  private volatile boolean closing;
  private volatile boolean failed;
  private ConnectionPool proxyPool;
  private ConnectionPool backendPool;
  private BackendClient backendClient;
  private HealthCheck healthCheck;
  private ProxyClient proxy;
  private ThreadPoolExecutor requests;
  private RequestForwarder forwarder;
  private BackendLoop backendLoop;
  private final RecentRequestIds startedIds = new RecentRequestIds(RecentRequestIds.DEFAULT_CAPACITY);
  private Dialer dialer;
  private volatile AgentWebSockets webSockets;
  private volatile ProxyChannel proxyChannel;
  private ScheduledExecutorService timer;
  private Thread poller;
  private final AgentObserver observer;

  private ForwardingAgent(Builder b) {
    this.proxyUrl = b.proxyUrl;
    this.backendId = b.backendId;
    this.target = b.target;
    this.credentials = b.credentials;
    this.proxyTimeout = b.proxyTimeout;
    this.requestForwardingTimeout = b.requestForwardingTimeout;
    this.forwardUserId = b.forwardUserId;
    this.stripCredentials = b.stripCredentials;
    this.disableSslForTest = b.disableSslForTest;
    this.proxyTrust = b.proxyTrust;
    this.maxConcurrentRequests = b.maxConcurrentRequests;
    this.heldRequests = new HeldRequests(b.maxBufferedBytes);
    this.shutdownGracePeriod = b.shutdownGracePeriod;
    List<HtmlSnippet> snippets = new ArrayList<>(b.htmlSnippets);
    if (b.webSocketOptions != null && b.webSocketOptions.injectsShim()) {
      snippets.add(ShimScript.snippet(b.webSocketOptions.shimPath()));
    }
    this.htmlSnippets = List.copyOf(snippets);
    this.webSocketOptions = b.webSocketOptions;
    this.sessionOptions = b.sessionOptions;
    this.healthCheckOptions = b.healthCheckOptions;
    this.forceHttp2 = b.forceHttp2;
    this.chainRequests = b.chainRequests;
    this.channel = b.channel;
    this.observer = b.observer;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The proxy's agent-facing base URL, ending with {@code /}. */
  public String proxyUrl() {
    return proxyUrl.url();
  }

  public String backendId() {
    return backendId;
  }

  /** Backend connections idle in the pool, ready for the next request; for tests. */
  int idleBackendConnections() {
    ConnectionPool pool = backendPool;
    return pool == null ? 0 : pool.idleCount();
  }

  /** Bytes of channel requests waiting for a thread, within the builder's {@code maxBufferedBytes}. */
  HeldRequests heldRequests() {
    return heldRequests;
  }

  /** Whether the channel to the proxy is open (the channel extension, docs/protocol.md). */
  boolean channelOpen() {
    ProxyChannel c = proxyChannel;
    return c != null && c.isOpen();
  }

  /** The agent's WebSockets (native relays and shim sessions); null when off or not started. */
  public AgentWebSockets webSockets() {
    return webSockets;
  }

  /** The backend's {@code host:port}. */
  public String target() {
    return target.authority();
  }

  /**
   * Starts polling on background (daemon) threads and returns at once.
   *
   * @throws IllegalStateException when started before, or closed
   */
  public void start() {
    synchronized (lock) {
      if (started || closing) {
        throw new IllegalStateException(closing ? "agent is closed" : "agent is already started");
      }
      started = true;
      HttpRequestExecutor executor = new HttpRequestExecutor();
      Duration proxyConnectTimeout = proxyTimeout.compareTo(MAX_PROXY_CONNECT_TIMEOUT) < 0
          ? proxyTimeout : MAX_PROXY_CONNECT_TIMEOUT;
      // Keep as many idle connections as requests may run at once (plus the poll's), or a busy agent
      // reconnects on every burst; idle ones still close after ConnectionPool.MAX_IDLE.
      int idleLimit = maxConcurrentRequests + 1;
      proxyPool = new ConnectionPool(proxyUrl.origin(), disableSslForTest, proxyTrust, proxyConnectTimeout,
          Http1Config.DEFAULT, null, idleLimit);
      // The backend's response heads are held to the limits the proxy parses them with.
      Http1Config backendConfig = Http1Config.custom()
          .setMaxLineLength(MessageLimits.DEFAULT.maxLineLength())
          .setMaxHeaderCount(MessageLimits.DEFAULT.maxHeaderCount())
          // Body reads larger than this go straight to the socket; smaller ones are copied through it.
          .setBufferSize(BACKEND_BUFFER_SIZE)
          .build();
      backendPool = new ConnectionPool(target, false, BACKEND_CONNECT_TIMEOUT, backendConfig,
          BackendClient.FRAMING_OF_BODY, idleLimit);
      timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("inverting-proxy-agent-timer"));
      // Idle connections close even when no request comes to find them stale: a quiet agent holds no sockets.
      ConnectionPool proxies = proxyPool;
      ConnectionPool backends = backendPool;
      timer.scheduleWithFixedDelay(() -> {
        proxies.closeIdle(ConnectionPool.MAX_IDLE);
        backends.closeIdle(ConnectionPool.MAX_IDLE);
      }, IDLE_CHECK_SECONDS, IDLE_CHECK_SECONDS, TimeUnit.SECONDS);
      proxy = new ProxyClient(proxyUrl, backendId, credentials, proxyPool, executor, proxyTimeout);
      BackendClient backend = forceHttp2 ? BackendClient.overH2c(target, requestForwardingTimeout)
          : new BackendClient(backendPool, executor, timer, requestForwardingTimeout);
      backendClient = backend;
      if (healthCheckOptions != null) {
        healthCheck = new HealthCheck(target, healthCheckOptions.path, healthCheckOptions.interval,
            healthCheckOptions.unhealthyThreshold);
      }
      SessionCookies sessions = sessionOptions == null ? null : new SessionCookies(sessionOptions.cookieName,
          sessionOptions.timeout, sessionOptions.limit, !disableSslForTest, Clock.systemUTC());
      forwarder = new RequestForwarder(proxy, backend, forwardUserId, stripCredentials,
          new ExchangeRewrites(sessions, new HtmlInjection(htmlSnippets)));
      forwarder.observer(observer);
      credentials.observeRefreshes(observer);
      if (chainRequests) {
        forwarder.acceptNextRequests(() -> !closing);
      }
      if (webSocketOptions != null || channel) {
        dialer = new Dialer(disableSslForTest, proxyTrust);
        try {
          dialer.start();
        } catch (Exception e) {
          throw new IllegalStateException("cannot start the WebSocket client: " + e.getMessage(), e);
        }
      }
      List<String> features = new ArrayList<>();
      if (webSocketOptions != null) {
        webSockets = new AgentWebSockets(webSocketOptions, proxyUrl.url(), backendId, credentials,
            target.authority(), dialer);
        webSockets.start();
        if (webSockets.features() != null) {
          features.add(webSockets.features());
        }
        forwarder.webSockets(webSockets);
      }
      requests = new ThreadPoolExecutor(maxConcurrentRequests, maxConcurrentRequests, 30, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), daemonThreads("inverting-proxy-agent-request"));
      requests.allowCoreThreadTimeOut(true);
      if (channel) {
        ThreadPoolExecutor requestThreads = requests;
        if (!forceHttp2 && !target.tls()) {
          try {
            backendLoop = new BackendLoop(target, BACKEND_CONNECT_TIMEOUT, requestForwardingTimeout, requestThreads,
                new SmallResponseReader(ChannelFrame.MAX_BODY_BYTES, MessageLimits.DEFAULT), maxConcurrentRequests,
                idleLimit);
          } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector for the backend: " + e.getMessage(), e);
          }
          forwarder.backendLoop(backendLoop);
        }
        proxyChannel = new ProxyChannel(proxyUrl.webSocket(ChannelFrame.PATH), proxy, dialer, (request, via) -> {
          // An id a poll listed as well is forwarded once, whichever way came first.
          if (startedIds.markStarted(request.id())) {
            forwarder.forward(request, via, heldRequests.holding(request.message().length, requestThreads));
          }
        }, timer, heldRequests);
        features.add(AgentFeatures.CHANNEL);
      }
      proxy.announceFeatures(features.isEmpty() ? null : String.join(", ", features));
      // The start-up line comes first, before anything the poller may log.
      LOG.info("forwarding agent started: proxy " + proxyUrl + ", backend " + backendId + ", target " + target
          + ", credentials " + credentials + ", proxy timeout " + GoDuration.format(proxyTimeout)
          + ", request forwarding timeout "
          + (requestForwardingTimeout.isZero() ? "none" : GoDuration.format(requestForwardingTimeout)));
      poller = daemonThreads("inverting-proxy-agent-poller").newThread(() -> pollLoop(forwarder));
      poller.start();
    }
  }

  private void pollLoop(RequestForwarder forwarder) {
    Backoff backoff = new Backoff();
    boolean failing = false;
    try {
      if (healthCheck != null) {
        awaitHealthyThenMonitor();
      }
      while (!closing) {
        ProxyClient.Pending pending;
        try {
          pending = proxy.pending();
        } catch (IOException | RuntimeException e) {
          if (closing) {
            break;
          }
          observer.proxyCallFailed(AgentObserver.ProxyCall.PENDING);
          Duration wait = backoff.next();
          // One warning when polling starts to fail and one line when it recovers, not one per retry.
          if (!failing) {
            LOG.warning("polling the proxy failed, retrying with backoff: " + ProxyTrust.describe(e));
            failing = true;
          } else {
            LOG.fine("polling the proxy failed again, next try in " + wait.toMillis() + " ms: " + e.getMessage());
          }
          Thread.sleep(wait.toMillis(), wait.toNanosPart() % 1_000_000);
          continue;
        }
        backoff.reset();
        if (failing) {
          LOG.info("polling the proxy works again");
          failing = false;
        }
        ProxyChannel offeredChannel = proxyChannel;
        if (offeredChannel != null && pending.offers(AgentFeatures.CHANNEL)) {
          offeredChannel.offered();
        }
        for (String id : pending.ids()) {
          if (startedIds.markStarted(id)) {
            try {
              requests.execute(() -> forwarder.forward(id));
            } catch (RejectedExecutionException e) {
              return; // closing
            }
          } else {
            LOG.finer(() -> "request " + id + " was listed again; already started");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "the polling thread failed; the agent stops", e);
      failed = true;
      new Thread(this::close, "inverting-proxy-agent-close").start();
    }
  }

  /** --health-check-*: no polling before the backend is healthy; too many failures in a row stop the agent. */
  private void awaitHealthyThenMonitor() throws InterruptedException {
    healthCheck.awaitHealthy(() -> closing);
    long every = healthCheck.interval().toNanos();
    try {
      timer.scheduleWithFixedDelay(() -> {
        if (!closing && healthCheck.checkAndCount()) {
          LOG.severe("backend " + target + " failed " + healthCheckOptions.unhealthyThreshold
              + " health checks in a row; the agent stops");
          failed = true;
          new Thread(this::close, "inverting-proxy-agent-close").start();
        }
      }, every, every, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Closed while waiting for the backend: nothing to monitor.
    }
  }

  /**
   * Stops polling, waits up to the shutdown grace period for requests in flight, then cuts off the
   * rest and closes every connection. Returns once done; closing again does nothing.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
      if (!started) {
        stopped.countDown();
        return;
      }
    }
    // Every step runs, and the agent counts as stopped at the end, whatever one step throws: a
    // close that broke off half-way would leave the process waiting for ever.
    try {
      LOG.info("stopping: no new requests; " + requests.getActiveCount() + " in flight may finish within "
          + GoDuration.format(shutdownGracePeriod));
      step("ending the poll", () -> {
        proxy.abortPoll();
        poller.interrupt();
      });
      if (proxyChannel != null) {
        // No more requests come over it; those in flight answer with agent/response.
        step("closing the channel", proxyChannel::close);
      }
      long graceEnd = System.nanoTime() + shutdownGracePeriod.toNanos();
      if (backendLoop != null) {
        try {
          // Those with the selector go on to the request threads, or are answered, first.
          if (!forwarder.awaitSelectorExchanges(shutdownGracePeriod)) {
            LOG.warning("requests still with the backend selector after " + GoDuration.format(shutdownGracePeriod));
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      requests.shutdown();
      if (webSockets != null) {
        // Closes relayed sockets with 1001 and ends shim polls, which would otherwise hold request threads.
        step("closing WebSockets", webSockets::close);
      }
      if (dialer != null) {
        step("stopping the WebSocket client", dialer::close);
      }
      try {
        if (!requests.awaitTermination(Math.max(0, graceEnd - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          LOG.warning(requests.getActiveCount() + " request(s) still in flight after "
              + GoDuration.format(shutdownGracePeriod) + "; cutting them off");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // Those whose response has not begun get a 503 now, while the proxy connections are still open.
      step("answering requests in flight", forwarder::answerUnanswered);
      requests.shutdownNow();
      step("closing proxy connections", proxyPool::close);
      step("closing backend connections", backendPool::close);
      if (backendLoop != null) {
        step("stopping the backend selector", backendLoop::close);
      }
      step("closing the backend client", backendClient::close);
      timer.shutdownNow();
      try {
        poller.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      LOG.info("forwarding agent stopped");
    } finally {
      stopped.countDown();
    }
  }

  /** One step of {@link #close}: what it throws is logged, and the next steps run all the same. */
  private static void step(String what, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.WARNING, "stopping: " + what + " failed", e);
    }
  }

  /** Blocks until {@link #close} has finished. */
  void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  /** True when the agent stopped because of an unexpected error rather than a call to close. */
  boolean failed() {
    return failed;
  }

  private static ThreadFactory daemonThreads(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread t = new Thread(runnable, name + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
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
    private SessionOptions sessionOptions;
    private WebSocketOptions webSocketOptions = WebSocketOptions.defaults();
    private HealthCheckOptions healthCheckOptions;
    private boolean forceHttp2;
    private boolean chainRequests = true;
    private boolean channel = true;

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
      requireNonNull(path, "path");
      requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("health check interval must be positive, was " + interval);
      }
      if (unhealthyThreshold < 1) {
        throw new IllegalArgumentException("health check unhealthy threshold must be at least 1, was "
            + unhealthyThreshold);
      }
      this.healthCheckOptions = new HealthCheckOptions(path, interval, unhealthyThreshold);
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
      requireNonNull(cookieName, "cookieName");
      requireNonNull(timeout, "timeout");
      // A token (RFC 9110 5.6.2): no separators, so that it cannot break the Cookie header it lives in.
      if (cookieName.isEmpty()
          || !cookieName.chars().allMatch(c -> c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
        throw new IllegalArgumentException(
            "session cookie name \"" + cookieName + "\" must be a token: no spaces or separators");
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("session cookie timeout must be positive, was " + GoDuration.format(timeout));
      }
      if (limit < 1) {
        throw new IllegalArgumentException("session cookie cache limit must be at least 1, was " + limit);
      }
      this.sessionOptions = new SessionOptions(cookieName, timeout, limit);
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
      return new ForwardingAgent(this);
    }
  }

  private record SessionOptions(String cookieName, Duration timeout, int limit) {}

  private record HealthCheckOptions(String path, Duration interval, int unhealthyThreshold) {}
}
