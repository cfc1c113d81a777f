package io.github.invertingproxy.server;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.BufferBudget;
import io.github.invertingproxy.core.ExchangeLog;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.core.memory.BackendRecordFile;
import io.github.invertingproxy.core.memory.InMemoryBackendRegistry;
import io.github.invertingproxy.core.memory.InMemoryExchangeStore;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.observe.ExchangeObservers;
import io.github.invertingproxy.core.observe.ObservedChannelDelivery;
import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.core.spi.ThreadlessWaits;
import io.github.invertingproxy.server.metrics.ServerMetrics;
import io.github.invertingproxy.server.tls.CertificateFiles;
import io.github.invertingproxy.server.tls.CertificateReloader;
import io.github.invertingproxy.server.websocket.JettyWebSocketGateway;
import io.github.invertingproxy.websocket.RelayLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The stand-alone proxy, on in-memory state: the main port serves the user-facing proxy on every
 * path and the agent calls (under {@code /agent/}, told apart by their backend header, see
 * {@link Endpoints}); a port of its own serves the admin API under {@code /api/backends} and the
 * admin page at {@code /admin/}.
 */
public final class StandaloneServer implements AutoCloseable {
  public static final Duration DEFAULT_THREAD_IDLE_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_READ_HEADER_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  private final Server jetty;
  private final Listeners listeners;
  private final ServerConnector connector;
  private final ServerConnector adminConnector;
  private final InMemoryBackendRegistry registry;
  private final InMemoryExchangeStore store;
  private final JettyWebSocketGateway webSockets;
  private final ServerMetrics metrics;
  private final QueuedThreadPool threads;
  private final BufferBudget bufferBudget;

  private StandaloneServer(Builder b) throws IOException {
    this.registry = b.dataDir == null
        ? InMemoryBackendRegistry.transientRegistry(b.liveWindow, b.clock)
        : InMemoryBackendRegistry.persistent(b.liveWindow, b.clock, BackendRecordFile.in(b.dataDir));
    this.store = new InMemoryExchangeStore(b.lease);
    Identity identity = b.identity != null ? b.identity
        : b.tokensFile != null ? new TokenIdentity(TokensFile.read(b.tokensFile)) : new OpenIdentity();

    QueuedThreadPool threads = new QueuedThreadPool(b.maxThreads, Math.min(8, b.maxThreads));
    threads.setName("proxy");
    // Jetty lets one idle thread go per idle timeout; after a burst that would keep a thousand threads
    // for hours. Every thread idle that long may go at once.
    threads.setIdleTimeout((int) Math.min(Integer.MAX_VALUE, b.threadIdleTimeout.toMillis()));
    threads.setMaxEvictCount(b.maxThreads);
    this.threads = threads;
    this.bufferBudget = b.settings.bufferBudget();
    this.jetty = new Server(threads);
    this.metrics = b.metricsBind == null ? null
        : new ServerMetrics(b.metricsBind, registry, b.webSocketLimits == null ? null : this::openRelays);
    ExchangeObserver observer = ExchangeObservers.of(new ExchangeLog(), b.observer,
        metrics == null ? ExchangeObserver.NONE : metrics.observer());
    // A request a channel sends is taken by its agent, as one a poll fetches.
    this.webSockets = b.webSocketLimits == null ? null
        : new JettyWebSocketGateway(jetty, b.webSocketLimits, !b.channels ? null
            : ObservedChannelDelivery.of(store.capability(ChannelDelivery.class).orElse(null), observer));
    this.listeners = new Listeners(jetty, b.settings, b.certificateFiles, b.certificateCheckInterval, b.readHeaderTimeout,
        b.maxConnections, b.bind, b.port, b.adminBind, b.adminPort);
    this.connector = listeners.main;
    this.adminConnector = listeners.admin;

    jetty.setHandler(listeners.handler(EndpointServlets.create(adminConnector, registry, store, identity, b.settings,
        b.clock, webSockets, observer)));
  }

  /** WebSocket relays open now, for the metrics. */
  private int openRelays() {
    return webSockets.relays().openCount();
  }

  public static Builder builder() {
    return new Builder();
  }

  public StandaloneServer start() throws Exception {
    jetty.start();
    if (metrics != null) {
      metrics.start();
    }
    return this;
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** The base URL, ending with {@code /}; agents use it as their {@code --proxy}. */
  public String url() {
    return listeners.url(connector);
  }

  /** The admin API's base URL, ending with {@code /}: the records are at {@code adminUrl() + "api/backends"}. */
  public String adminUrl() {
    return listeners.url(adminConnector);
  }

  /** The certificate files' watcher, null without TLS: its serial tells which certificate new connections get. */
  public CertificateReloader certificates() {
    return listeners.certificates;
  }

  /** Where Prometheus scrapes the metrics ({@code http://host:port/metrics}); null when they are off. */
  public String metricsUrl() {
    return metrics == null ? null : metrics.url();
  }

  public InMemoryBackendRegistry registry() {
    return registry;
  }

  public InMemoryExchangeStore exchanges() {
    return store;
  }

  /** The WebSocket upgrades carried natively; null when they are off ({@link Builder#webSockets}). */
  public JettyWebSocketGateway webSockets() {
    return webSockets;
  }

  /** Stops or resumes taking connections from the kernel's queue; package-private, as only a test pauses it. */
  void accepting(boolean accepting) {
    connector.setAccepting(accepting);
  }

  /** The bytes that requests waiting without a thread hold in memory, within {@code --max-buffered-bytes}. */
  public BufferBudget bufferBudget() {
    return bufferBudget;
  }

  /** Request threads that exist now, busy or idle; package-private, as only a test reads it. */
  int threadCount() {
    return threads.getThreads();
  }

  /** Connections currently open to the port; package-private, as only a test reads it. */
  int openConnections() {
    return connector.getConnectedEndPoints().size();
  }

  /** Connections upgraded to WebSockets now (clients' and agents'): the outside sign that none was left behind. */
  public int openWebSocketConnections() {
    return (int) connector.getConnectedEndPoints().stream()
        .map(e -> e.getConnection() instanceof org.eclipse.jetty.io.ssl.SslConnection tls
            ? tls.getSslEndPoint().getConnection() : e.getConnection()) // over TLS, the decrypted side's
        .filter(c -> c instanceof org.eclipse.jetty.websocket.core.WebSocketConnection).count();
  }

  @Override
  public void close() throws Exception {
    try {
      if (webSockets != null) {
        webSockets.shutDown(Duration.ofSeconds(2));
      }
      store.capability(ThreadlessWaits.class).ifPresent(ThreadlessWaits::endWaits);
      jetty.stop();
    } finally {
      if (webSockets != null) {
        webSockets.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      store.close();
      registry.save();
    }
  }

  public static final class Builder {
    private String bind = "127.0.0.1";
    private int port = 8080;
    private String adminBind;
    private int adminPort;
    private Path dataDir;
    private Path tokensFile;
    private Identity identity;
    private ProxySettings settings = ProxySettings.defaults();
    private Duration liveWindow = Duration.ofMinutes(5);
    private Duration lease = Duration.ofSeconds(5);
    private int maxThreads = 1000;
    private Duration threadIdleTimeout = DEFAULT_THREAD_IDLE_TIMEOUT;
    private Duration readHeaderTimeout = DEFAULT_READ_HEADER_TIMEOUT;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private Clock clock = Clock.systemUTC();
    private RelayLimits webSocketLimits = RelayLimits.DEFAULT;
    private boolean channels = true;
    private ExchangeObserver observer = ExchangeObserver.NONE;
    private String metricsBind;
    private CertificateFiles certificateFiles;
    private Duration certificateCheckInterval = Duration.ofSeconds(5);

    private Builder() {}

    /** Serves Prometheus metrics on a listener of its own at {@code HOST:PORT}; null (the default): none. */
    public Builder metricsBind(String metricsBind) {
      if (metricsBind != null) {
        ServerMetrics.checkBind(metricsBind);
      }
      this.metricsBind = metricsBind;
      return this;
    }

    /** Told every step of every exchange and every agent call, besides the access log (the metrics, a test). */
    public Builder observer(ExchangeObserver observer) {
      this.observer = requireNonNull(observer, "observer");
      return this;
    }

    /**
     * Offers agents that announce it an {@code agent/channel} WebSocket, over which their small
     * requests and responses travel (docs/protocol.md, "Channel extension"); on by default. Needs
     * {@link #webSockets} on.
     */
    public Builder channels(boolean channels) {
      this.channels = channels;
      return this;
    }

    /**
     * Serves HTTPS on both listeners with this PEM certificate chain and key, re-read when the files
     * change; null (the default) serves plain HTTP. A file that does not serve fails {@link #build}
     * with {@link CertificateFiles.Unusable}.
     */
    public Builder tls(CertificateFiles certificateFiles) {
      this.certificateFiles = certificateFiles;
      return this;
    }

    /** How often the certificate files are looked at for a renewal; 5 seconds by default. */
    public Builder certificateCheckInterval(Duration interval) {
      if (interval.isZero() || interval.isNegative()) {
        throw new IllegalArgumentException("certificate check interval must be positive, was " + interval);
      }
      this.certificateCheckInterval = interval;
      return this;
    }

    /** Carries WebSocket upgrades natively within these limits; null answers upgrades with 501. */
    public Builder webSockets(RelayLimits limits) {
      this.webSocketLimits = limits;
      return this;
    }

    public Builder bind(String bind) {
      this.bind = requireNonNull(bind, "bind");
      return this;
    }

    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 to 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /** Where the admin API listens; null (the default) listens where {@link #bind} does. */
    public Builder adminBind(String adminBind) {
      this.adminBind = adminBind;
      return this;
    }

    /** The admin API's port; 0 (the default here; the command line's is 8081) picks a free one. */
    public Builder adminPort(int adminPort) {
      if (adminPort < 0 || adminPort > 65535) {
        throw new IllegalArgumentException("admin port must be 0 to 65535, was " + adminPort);
      }
      this.adminPort = adminPort;
      return this;
    }

    /** Persist backend records in {@code backends.json} in this folder; null keeps them in memory only. */
    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /** {@code --auth tokens}: bearer tokens from this file; see {@link TokensFile}. */
    public Builder tokensFile(Path tokensFile) {
      this.tokensFile = requireNonNull(tokensFile, "tokensFile");
      return this;
    }

    /** Any other way of telling who calls; overrides {@link #tokensFile}. */
    public Builder identity(Identity identity) {
      this.identity = requireNonNull(identity, "identity");
      return this;
    }

    public Builder settings(ProxySettings settings) {
      this.settings = requireNonNull(settings, "settings");
      return this;
    }

    /** How recently an agent must have polled for its backend to count as live. */
    public Builder liveWindow(Duration liveWindow) {
      this.liveWindow = requireNonNull(liveWindow, "liveWindow");
      return this;
    }

    /** How long a listed request stays reserved for the agent that got it before it is listed again. */
    public Builder lease(Duration lease) {
      this.lease = requireNonNull(lease, "lease");
      return this;
    }

    public Builder maxThreads(int maxThreads) {
      if (maxThreads < 16) {
        throw new IllegalArgumentException("maxThreads must be at least 16, was " + maxThreads);
      }
      this.maxThreads = maxThreads;
      return this;
    }

    /** How long a request thread may stay idle before it ends; all such threads may end at once. */
    public Builder threadIdleTimeout(Duration timeout) {
      this.threadIdleTimeout = positive(timeout, "threadIdleTimeout");
      return this;
    }

    /** {@code --read-header-timeout}: a request head must arrive whole within this time; see {@link HeaderDeadline}. */
    public Builder readHeaderTimeout(Duration timeout) {
      this.readHeaderTimeout = positive(timeout, "readHeaderTimeout");
      return this;
    }

    /** {@code --max-connections}: at this many open connections the server stops accepting more. */
    public Builder maxConnections(int maxConnections) {
      if (maxConnections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1, was " + maxConnections);
      }
      this.maxConnections = maxConnections;
      return this;
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }

    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    public StandaloneServer build() throws IOException {
      return new StandaloneServer(this);
    }
  }
}
