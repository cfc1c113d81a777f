package io.github.invertingproxy.agent;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.GoDuration;
import io.github.invertingproxy.protocol.MessageLimits;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
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
  private static final int MAX_IDLE_CONNECTIONS = 32;

  private final Origin.ProxyBase proxyUrl;
  private final String backendId;
  private final Origin target;
  private final ProxyCredentials credentials;
  private final Duration proxyTimeout;
  private final Duration requestForwardingTimeout;
  private final boolean forwardUserId;
  private final boolean stripCredentials;
  private final boolean disableSslForTest;
  private final int maxConcurrentRequests;
  private final Duration shutdownGracePeriod;

  private final Object lock = new Object();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean started;
  private volatile boolean closing;
  private volatile boolean failed;
  private ConnectionPool proxyPool;
  private ConnectionPool backendPool;
  private ProxyClient proxy;
  private ThreadPoolExecutor requests;
  private ScheduledExecutorService timer;
  private Thread poller;

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
    this.maxConcurrentRequests = b.maxConcurrentRequests;
    this.shutdownGracePeriod = b.shutdownGracePeriod;
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
      proxyPool = new ConnectionPool(proxyUrl.origin(), disableSslForTest, proxyConnectTimeout,
          Http1Config.DEFAULT, null, MAX_IDLE_CONNECTIONS);
      // The backend's response heads are held to the limits the proxy parses them with.
      Http1Config backendConfig = Http1Config.custom()
          .setMaxLineLength(MessageLimits.DEFAULT.maxLineLength())
          .setMaxHeaderCount(MessageLimits.DEFAULT.maxHeaderCount())
          .build();
      backendPool = new ConnectionPool(target, false, BACKEND_CONNECT_TIMEOUT, backendConfig,
          BackendClient.FRAMING_OF_BODY, MAX_IDLE_CONNECTIONS);
      timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("inverting-proxy-agent-timer"));
      proxy = new ProxyClient(proxyUrl, backendId, credentials, proxyPool, executor, proxyTimeout);
      BackendClient backend = new BackendClient(backendPool, executor, timer, requestForwardingTimeout);
      RequestForwarder forwarder = new RequestForwarder(proxy, backend, forwardUserId, stripCredentials);
      requests = new ThreadPoolExecutor(maxConcurrentRequests, maxConcurrentRequests, 30, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), daemonThreads("inverting-proxy-agent-request"));
      requests.allowCoreThreadTimeOut(true);
      poller = daemonThreads("inverting-proxy-agent-poller").newThread(() -> pollLoop(forwarder));
      poller.start();
    }
    LOG.info("forwarding agent started: proxy " + proxyUrl + ", backend " + backendId + ", target " + target
        + ", credentials " + credentials + ", proxy timeout " + GoDuration.format(proxyTimeout)
        + ", request forwarding timeout "
        + (requestForwardingTimeout.isZero() ? "none" : GoDuration.format(requestForwardingTimeout)));
  }

  private void pollLoop(RequestForwarder forwarder) {
    RecentRequestIds started = new RecentRequestIds(RecentRequestIds.DEFAULT_CAPACITY);
    Backoff backoff = new Backoff();
    boolean failing = false;
    try {
      while (!closing) {
        List<String> ids;
        try {
          ids = proxy.pending();
        } catch (IOException | RuntimeException e) {
          if (closing) {
            break;
          }
          Duration wait = backoff.next();
          // One warning when polling starts to fail and one line when it recovers, not one per retry.
          if (!failing) {
            LOG.warning("polling the proxy failed, retrying with backoff: " + e.getMessage());
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
        for (String id : ids) {
          if (started.markStarted(id)) {
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
    proxy.abortPoll();
    poller.interrupt();
    requests.shutdown();
    try {
      if (!requests.awaitTermination(shutdownGracePeriod.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.warning(requests.getActiveCount() + " request(s) still in flight after "
            + GoDuration.format(shutdownGracePeriod) + "; cutting them off");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    requests.shutdownNow();
    proxyPool.close();
    backendPool.close();
    timer.shutdownNow();
    try {
      poller.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("forwarding agent stopped");
    stopped.countDown();
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
    private int maxConcurrentRequests = DEFAULT_MAX_CONCURRENT_REQUESTS;
    private Duration shutdownGracePeriod = DEFAULT_SHUTDOWN_GRACE_PERIOD;

    private Builder() {}

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

    /** How many requests are forwarded at once; more wait their turn. 64 by default. */
    public Builder maxConcurrentRequests(int maxConcurrentRequests) {
      if (maxConcurrentRequests < 1) {
        throw new IllegalArgumentException("max concurrent requests must be at least 1, was " + maxConcurrentRequests);
      }
      this.maxConcurrentRequests = maxConcurrentRequests;
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
}
