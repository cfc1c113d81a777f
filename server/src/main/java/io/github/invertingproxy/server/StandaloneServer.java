package io.github.invertingproxy.server;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.BufferBudget;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.core.admin.AdminApiServlet;
import io.github.invertingproxy.core.admin.AdminPageServlet;
import io.github.invertingproxy.core.admin.AdminRequestGuard;
import io.github.invertingproxy.core.agent.AgentEndpointServlet;
import io.github.invertingproxy.core.memory.BackendRecordFile;
import io.github.invertingproxy.core.memory.InMemoryBackendActivity;
import io.github.invertingproxy.core.memory.InMemoryBackendRegistry;
import io.github.invertingproxy.core.memory.InMemoryExchangeStore;
import io.github.invertingproxy.core.proxy.UserProxyServlet;
import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.core.spi.ThreadlessWaits;
import io.github.invertingproxy.server.tls.CertificateFiles;
import io.github.invertingproxy.server.tls.CertificateReloader;
import io.github.invertingproxy.server.tls.TlsConnectorFactory;
import io.github.invertingproxy.server.websocket.JettyWebSocketGateway;
import io.github.invertingproxy.websocket.RelayLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import javax.servlet.DispatcherType;
import org.eclipse.jetty.ee8.servlet.FilterHolder;
import org.eclipse.jetty.ee8.servlet.ServletContextHandler;
import org.eclipse.jetty.ee8.servlet.ServletHolder;
import org.eclipse.jetty.ee8.servlet.ServletMapping;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
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
  /**
   * Jetty's input and output buffers. A large body crosses in pieces of this size; 32 KiB cost the
   * server about 8 % less CPU per 1 MiB response than 64 KiB (less of the cache for sixteen streams'
   * buffers), with 16 KiB and 256 KiB both worse (docs/performance-history.md, "Eighth round").
   */
  private static final int BUFFER_SIZE = 32 * 1024;
  /**
   * Connections the kernel completes while the acceptor is busy. With the JDK's default of 50, a
   * burst of clients (a thousand at once) loses the rest of its connects, which retry only after a
   * second or more; the kernel caps this at {@code net.core.somaxconn}.
   */
  private static final int ACCEPT_QUEUE = 1024;
  public static final Duration DEFAULT_THREAD_IDLE_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_READ_HEADER_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  private final Server jetty;
  private final ServerConnector connector;
  private final ServerConnector adminConnector;
  private final InMemoryBackendRegistry registry;
  private final InMemoryExchangeStore store;
  private final JettyWebSocketGateway webSockets;
  private final QueuedThreadPool threads;
  private final BufferBudget bufferBudget;
  /** Null when the listeners speak plain HTTP. */
  private final CertificateReloader certificates;

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
    this.webSockets = b.webSocketLimits == null ? null
        : new JettyWebSocketGateway(jetty, b.webSocketLimits,
            b.channels ? store.capability(ChannelDelivery.class).orElse(null) : null);
    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(b.settings.messageLimits().maxLineLength());
    http.setSendServerVersion(false);
    // Responses relayed from a backend carry the backend's Date; the servlets date their own answers.
    http.setSendDateHeader(false);
    http.setSendXPoweredBy(false);
    // Jetty lets every target it can parse through to the servlets undecoded: the proxy's one rule
    // (RequestTarget) decides which are refused, and with which reason. Stricter modes answered some
    // (a backslash, "..;", an escape that is not UTF-8) with a page of Jetty's own.
    http.setUriCompliance(UriCompliance.UNSAFE);
    // Relayed bodies arrive and leave in pieces of up to 64 KiB; larger buffers than Jetty's defaults
    // (8 KiB in, 32 KiB out) take each in one read and one write. Jetty's buffer pool keeps buffers of
    // up to 64 KiB; larger ones would be allocated afresh for every response.
    http.setOutputBufferSize(BUFFER_SIZE);
    // With a certificate, both listeners speak HTTPS (HTTP/2 or HTTP/1.1 by ALPN) and nothing else.
    TlsConnectorFactory tls = b.certificateFiles == null ? null
        : new TlsConnectorFactory(b.certificateFiles, b.certificateCheckInterval);
    this.certificates = tls == null ? null : tls.reloader();
    if (certificates != null) {
      jetty.addBean(certificates);
    }
    HeaderDeadline headerDeadline = new HeaderDeadline(b.readHeaderTimeout);
    this.connector = new ServerConnector(jetty, factories(http, tls, headerDeadline));
    connector.setHost(b.bind);
    connector.setPort(b.port);
    connector.setAcceptQueueSize(ACCEPT_QUEUE);
    connector.setIdleTimeout(Math.max(b.settings.pendingTimeout().toMillis(), b.settings.responseTimeout().toMillis()) + 30_000);
    connector.addBean(headerDeadline);
    jetty.addConnector(connector);
    // At the cap the connector stops accepting: new connections wait in the kernel's queue.
    jetty.addBean(new NetworkConnectionLimit(b.maxConnections, connector));
    this.adminConnector = new ServerConnector(jetty, factories(http, tls, headerDeadline));
    adminConnector.setHost(b.adminBind != null ? b.adminBind : b.bind);
    adminConnector.setPort(b.adminPort);
    jetty.addConnector(adminConnector);
    // A cap of its own, so that a flood of clients on the public port cannot lock the administrator out.
    jetty.addBean(new NetworkConnectionLimit(b.maxConnections, adminConnector));

    // The agent calls' context sits at /agent, so that the servlet sees the call as its path info.
    ServletContextHandler agentCalls = context("/agent", b);
    ServletHolder agent = new ServletHolder("agent", new AgentEndpointServlet(registry, store, identity, b.settings, webSockets));
    agent.setAsyncSupported(true);
    agentCalls.addServlet(agent, "/*");
    ServletContextHandler admin = context("/", b);
    admin.addServlet(new ServletHolder("admin",
        new AdminApiServlet(registry, identity, new InMemoryBackendActivity(registry, store))), "/api/backends/*");
    admin.addServlet(new ServletHolder("admin-page", new AdminPageServlet(identity)), "/admin/*");
    ServletMapping root = new ServletMapping();
    root.setServletName("admin-page");
    root.setPathSpec(""); // the root alone, which sends a browser on to /admin/
    admin.getServletHandler().addServletMapping(root);
    // Pages in an administrator's browser (a backend's among them) may not drive the admin API.
    admin.addFilter(new FilterHolder(new AdminRequestGuard()), "/api/backends/*", EnumSet.of(DispatcherType.REQUEST));
    ServletContextHandler clients = context("/", b);
    // Asynchronous: a client whose request has no body, or a small one, waits for its response without a thread.
    ServletHolder proxy = new ServletHolder("proxy", new UserProxyServlet(registry, store, identity, b.settings, b.clock, webSockets));
    proxy.setAsyncSupported(true);
    clients.addServlet(proxy, "/*");
    jetty.setHandler(headerDeadline.wrap(new Endpoints(adminConnector, admin.get(), agentCalls.get(), clients.get())));
  }

  /**
   * A listener's protocols: HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1 by ALPN. HTTP/1.1 heads are held
   * to the read-header deadline.
   */
  private static ConnectionFactory[] factories(HttpConfiguration http, TlsConnectorFactory tls, HeaderDeadline deadline) {
    ConnectionFactory[] factories;
    if (tls == null) {
      HttpConnectionFactory h1 = new HttpConnectionFactory(http);
      h1.setInputBufferSize(BUFFER_SIZE);
      factories = new ConnectionFactory[] {h1};
    } else {
      factories = tls.connectionFactories(http, BUFFER_SIZE);
    }
    for (ConnectionFactory f : factories) {
      if (f instanceof HttpConnectionFactory h1) {
        h1.addEventListener(deadline.tracks());
      }
    }
    return factories;
  }

  private static ServletContextHandler context(String path, Builder b) {
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath(path);
    FilterHolder headerCount = new FilterHolder(new HeaderCountLimit(b.settings.messageLimits().maxHeaderCount()));
    headerCount.setAsyncSupported(true);
    context.addFilter(headerCount, "/*", EnumSet.of(DispatcherType.REQUEST));
    return context;
  }

  public static Builder builder() {
    return new Builder();
  }

  public StandaloneServer start() throws Exception {
    jetty.start();
    return this;
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** The base URL, ending with {@code /}; agents use it as their {@code --proxy}. */
  public String url() {
    return url(connector);
  }

  /** The admin API's base URL, ending with {@code /}: the records are at {@code adminUrl() + "api/backends"}. */
  public String adminUrl() {
    return url(adminConnector);
  }

  private String url(ServerConnector listener) {
    String host = listener.getHost() == null || listener.getHost().equals("0.0.0.0") ? "127.0.0.1" : listener.getHost();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return (certificates == null ? "http://" : "https://") + host + ":" + listener.getLocalPort() + "/";
  }

  /** The certificate files' watcher, null without TLS: its serial tells which certificate new connections get. */
  public CertificateReloader certificates() {
    return certificates;
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

  /** Stops or resumes taking connections from the kernel's queue; for tests. */
  void accepting(boolean accepting) {
    connector.setAccepting(accepting);
  }

  /** The bytes that requests waiting without a thread hold in memory, within {@code --max-buffered-bytes}. */
  public BufferBudget bufferBudget() {
    return bufferBudget;
  }

  /** Request threads that exist now, busy or idle; for tests. */
  int threadCount() {
    return threads.getThreads();
  }

  /** Connections currently open to the port, for tests and metrics. */
  public int openConnections() {
    return connector.getConnectedEndPoints().size();
  }

  /** Connections currently upgraded to WebSockets (clients' and agents'), for tests and metrics. */
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
    private CertificateFiles certificateFiles;
    private Duration certificateCheckInterval = Duration.ofSeconds(5);

    private Builder() {}

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
