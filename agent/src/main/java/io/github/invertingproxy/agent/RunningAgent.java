package io.github.invertingproxy.agent;

import io.github.invertingproxy.agent.backend.BackendClient;
import io.github.invertingproxy.agent.backend.BackendLoop;
import io.github.invertingproxy.agent.backend.HealthCheck;
import io.github.invertingproxy.agent.channel.HeldRequests;
import io.github.invertingproxy.agent.channel.ProxyChannel;
import io.github.invertingproxy.agent.forward.PollLoop;
import io.github.invertingproxy.agent.forward.RecentRequestIds;
import io.github.invertingproxy.agent.forward.RequestForwarder;
import io.github.invertingproxy.agent.forward.SelectorForwarder;
import io.github.invertingproxy.agent.html.HtmlInjection;
import io.github.invertingproxy.agent.http.ConnectionPool;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SmallResponseReader;
import io.github.invertingproxy.agent.proxy.ProxyClient;
import io.github.invertingproxy.agent.rewrite.ExchangeRewrites;
import io.github.invertingproxy.agent.rewrite.ForwardedHeaders;
import io.github.invertingproxy.agent.rewrite.SessionCookies;
import io.github.invertingproxy.agent.websocket.AgentWebSockets;
import io.github.invertingproxy.agent.websocket.Dialer;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.GoDuration;
import io.github.invertingproxy.protocol.MessageLimits;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
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
 * A started agent: the pipeline's parts wired together (docs/agent.md) — sources (the poll, the
 * channel), the prepare step, the backend call (blocking client, selector) and the response sinks —
 * with the threads and connections they run on, and the order they stop in.
 */
final class RunningAgent {
  private static final Logger LOG = Logger.getLogger(ForwardingAgent.class.getName());
  private static final Duration BACKEND_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration MAX_PROXY_CONNECT_TIMEOUT = Duration.ofSeconds(30);
  private static final long IDLE_CHECK_SECONDS = 5;
  private static final int BACKEND_BUFFER_SIZE = 64 * 1024;

  private final AgentSettings settings;
  private final Runnable stopAgent;
  private final HeldRequests heldRequests;
  private final ConnectionPool proxyPool;
  private final ConnectionPool backendPool;
  private final ScheduledExecutorService timer;
  private final ProxyClient proxy;
  private final BackendClient backendClient;
  private final HealthCheck healthCheck;
  private final RequestForwarder forwarder;
  private final Dialer dialer;
  private final AgentWebSockets webSockets;
  private final ThreadPoolExecutor requests;
  private final BackendLoop backendLoop;
  private final SelectorForwarder selectorForwarder;
  private final ProxyChannel proxyChannel;
  private final Thread poller;
  private volatile boolean closing;
  private volatile boolean failed;

  /**
   * Starts polling on background (daemon) threads and returns at once.
   *
   * @param stopAgent stops the agent (on a thread of its own) when polling fails or the backend turns unhealthy
   */
  RunningAgent(AgentSettings settings, Runnable stopAgent) {
    this.settings = settings;
    this.stopAgent = stopAgent;
    this.heldRequests = new HeldRequests(settings.maxBufferedBytes());
    Origin target = settings.target();
    Duration proxyConnectTimeout = settings.proxyTimeout().compareTo(MAX_PROXY_CONNECT_TIMEOUT) < 0
        ? settings.proxyTimeout() : MAX_PROXY_CONNECT_TIMEOUT;
    // Keep as many idle connections as requests may run at once (plus the poll's), or a busy agent
    // reconnects on every burst; idle ones still close after ConnectionPool.MAX_IDLE.
    int idleLimit = settings.maxConcurrentRequests() + 1;
    proxyPool = new ConnectionPool(settings.proxyUrl().origin(), settings.disableSslForTest(), settings.proxyTrust(),
        proxyConnectTimeout, Http1Config.DEFAULT, null, idleLimit);
    backendPool = new ConnectionPool(target, false, BACKEND_CONNECT_TIMEOUT, backendConfig(),
        BackendClient.FRAMING_OF_BODY, idleLimit);
    timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("inverting-proxy-agent-timer"));
    // Idle connections close even when no request comes to find them stale: a quiet agent holds no sockets.
    timer.scheduleWithFixedDelay(() -> {
      proxyPool.closeIdle(ConnectionPool.MAX_IDLE);
      backendPool.closeIdle(ConnectionPool.MAX_IDLE);
    }, IDLE_CHECK_SECONDS, IDLE_CHECK_SECONDS, TimeUnit.SECONDS);
    HttpRequestExecutor executor = new HttpRequestExecutor();
    proxy = new ProxyClient(settings.proxyUrl(), settings.backendId(), settings.credentials(), proxyPool, executor,
        settings.proxyTimeout());
    backendClient = settings.forceHttp2() ? BackendClient.overH2c(target, settings.requestForwardingTimeout())
        : new BackendClient(backendPool, executor, timer, settings.requestForwardingTimeout());
    AgentSettings.HealthCheckSettings health = settings.healthCheck();
    healthCheck = health == null ? null
        : new HealthCheck(target, health.path(), health.interval(), health.unhealthyThreshold());
    settings.credentials().observeRefreshes(settings.observer());
    dialer = settings.webSockets() != null || settings.channel() ? startDialer() : null;
    List<String> features = new ArrayList<>();
    webSockets = settings.webSockets() == null ? null : startWebSockets(features);
    forwarder = new RequestForwarder(proxy, backendClient, rewrites(), webSockets,
        settings.chainRequests() ? () -> !closing : () -> false, settings.observer());
    requests = new ThreadPoolExecutor(settings.maxConcurrentRequests(), settings.maxConcurrentRequests(), 30,
        TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemonThreads("inverting-proxy-agent-request"));
    requests.allowCoreThreadTimeOut(true);
    RecentRequestIds startedIds = new RecentRequestIds(RecentRequestIds.DEFAULT_CAPACITY);
    backendLoop = settings.channel() && settings.backendSelector() && !settings.forceHttp2() && !target.tls()
        ? startBackendLoop(idleLimit) : null;
    selectorForwarder = backendLoop == null ? null : new SelectorForwarder(forwarder, backendLoop);
    if (settings.channel()) {
      proxyChannel = openChannel(startedIds);
      features.add(AgentFeatures.CHANNEL);
    } else {
      proxyChannel = null;
    }
    proxy.announceFeatures(features.isEmpty() ? null : String.join(", ", features));
    // The start-up line comes first, before anything the poller may log.
    LOG.info("forwarding agent started: proxy " + settings.proxyUrl() + ", backend " + settings.backendId()
        + ", target " + target + ", credentials " + settings.credentials() + ", proxy timeout "
        + GoDuration.format(settings.proxyTimeout()) + ", request forwarding timeout "
        + (settings.requestForwardingTimeout().isZero() ? "none"
            : GoDuration.format(settings.requestForwardingTimeout())));
    PollLoop polls = new PollLoop(proxy, forwarder, startedIds, requests,
        proxyChannel == null ? null : proxyChannel::offered, () -> closing, settings.observer());
    poller = daemonThreads("inverting-proxy-agent-poller").newThread(() -> poll(polls));
    poller.start();
  }

  /** Native WebSockets and the shim; the features they announce go to {@code features}. */
  private AgentWebSockets startWebSockets(List<String> features) {
    AgentWebSockets ws = new AgentWebSockets(settings.webSockets(), settings.proxyUrl().url(), settings.backendId(),
        settings.credentials(), settings.target().authority(), dialer);
    ws.start();
    if (ws.features() != null) {
      features.add(ws.features());
    }
    return ws;
  }

  /** The channel, dialled when a poll's answer offers it; its requests go to the selector or a thread. */
  private ProxyChannel openChannel(RecentRequestIds startedIds) {
    return new ProxyChannel(settings.proxyUrl().webSocket(ChannelFrame.PATH), proxy, dialer, (request, via) -> {
      // An id a poll listed as well is forwarded once, whichever way came first.
      if (!startedIds.markStarted(request.id())) {
        return;
      }
      Executor threads = heldRequests.holding(request.message().length, requests);
      if (selectorForwarder != null) {
        selectorForwarder.forward(request, via, threads);
      } else {
        threads.execute(() -> forwarder.forward(request, via));
      }
    }, timer, heldRequests);
  }

  /** The backend's response heads are held to the limits the proxy parses them with. */
  private static Http1Config backendConfig() {
    return Http1Config.custom()
        .setMaxLineLength(MessageLimits.DEFAULT.maxLineLength())
        .setMaxHeaderCount(MessageLimits.DEFAULT.maxHeaderCount())
        // Body reads larger than this go straight to the socket; smaller ones are copied through it.
        .setBufferSize(BACKEND_BUFFER_SIZE)
        .build();
  }

  private ExchangeRewrites rewrites() {
    AgentSettings.Sessions s = settings.sessions();
    SessionCookies sessions = s == null ? null : new SessionCookies(s.cookieName(), s.timeout(), s.limit(),
        !settings.disableSslForTest(), Clock.systemUTC());
    ForwardedHeaders headers = new ForwardedHeaders(settings.stripCredentials(), settings.forwardUserId(),
        settings.target().authority());
    return new ExchangeRewrites(headers, sessions, new HtmlInjection(settings.htmlSnippets()));
  }

  private Dialer startDialer() {
    Dialer d = new Dialer(settings.disableSslForTest(), settings.proxyTrust());
    try {
      d.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the WebSocket client: " + e.getMessage(), e);
    }
    return d;
  }

  private BackendLoop startBackendLoop(int idleLimit) {
    try {
      return new BackendLoop(settings.target(), BACKEND_CONNECT_TIMEOUT, settings.requestForwardingTimeout(), requests,
          new SmallResponseReader(ChannelFrame.MAX_BODY_BYTES, MessageLimits.DEFAULT),
          settings.maxConcurrentRequests(), idleLimit);
    } catch (IOException e) {
      throw new IllegalStateException("cannot open a selector for the backend: " + e.getMessage(), e);
    }
  }

  /** The poller's thread: no polling before the backend is healthy (--health-check-*), then polls till closed. */
  private void poll(PollLoop polls) {
    try {
      if (healthCheck != null) {
        healthCheck.awaitHealthy(() -> closing);
        healthCheck.monitor(timer, () -> closing, this::fail);
      }
      polls.poll();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "the polling thread failed; the agent stops", e);
      fail();
    }
  }

  private void fail() {
    failed = true;
    new Thread(stopAgent, "inverting-proxy-agent-close").start();
  }

  boolean failed() {
    return failed;
  }

  HeldRequests heldRequests() {
    return heldRequests;
  }

  int idleBackendConnections() {
    return backendPool.idleCount();
  }

  boolean channelOpen() {
    return proxyChannel != null && proxyChannel.isOpen();
  }

  AgentWebSockets webSockets() {
    return webSockets;
  }

  /**
   * Stops polling, waits up to the shutdown grace period for requests in flight, then cuts off the
   * rest and closes every connection. Every step runs, whatever one step throws: a close that broke
   * off half-way would leave the process waiting for ever.
   */
  void close() {
    closing = true;
    Duration grace = settings.shutdownGracePeriod();
    LOG.info("stopping: no new requests; " + requests.getActiveCount() + " in flight may finish within "
        + GoDuration.format(grace));
    step("ending the poll", () -> {
      proxy.abortPoll();
      poller.interrupt();
    });
    if (proxyChannel != null) {
      // No more requests come over it; those in flight answer with agent/response.
      step("closing the channel", proxyChannel::close);
    }
    long graceEnd = System.nanoTime() + grace.toNanos();
    if (selectorForwarder != null) {
      try {
        // Those with the selector go on to the request threads, or are answered, first.
        if (!selectorForwarder.awaitExchanges(grace)) {
          LOG.warning("requests still with the backend selector after " + GoDuration.format(grace));
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
        LOG.warning(requests.getActiveCount() + " request(s) still in flight after " + GoDuration.format(grace)
            + "; cutting them off");
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
  }

  /** One step of {@link #close}: what it throws is logged, and the next steps run all the same. */
  private static void step(String what, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.WARNING, "stopping: " + what + " failed", e);
    }
  }

  private static ThreadFactory daemonThreads(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread t = new Thread(runnable, name + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
