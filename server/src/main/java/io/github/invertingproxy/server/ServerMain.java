package io.github.invertingproxy.server;

import io.github.invertingproxy.core.BufferBudget;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.protocol.GoDuration;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.commandline.Flags;
import io.github.invertingproxy.commandline.logging.OutOfMemoryHalt;
import io.github.invertingproxy.server.tls.CertificateFiles;
import io.github.invertingproxy.websocket.RelayLimits;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;

/** {@code java -jar inverting-proxy-server.jar [flags]}: runs the stand-alone proxy until stopped. */
public final class ServerMain {
  private ServerMain() {}

  public static void main(String[] args) {
    int code = args.length > 0 && args[0].equals("backends")
        ? BackendsCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.getenv(), System.out, System.err)
        : run(args, System.getenv(), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Starts the server and blocks until the JVM is asked to stop; returns the exit code on failure. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    StandaloneServer server;
    try {
      server = configure(args, env, out, err);
    } catch (Flags.UsageException e) {
      (e.isHelp() ? out : err).println(e.isHelp() ? e.getMessage() : "inverting-proxy-server: " + e.getMessage());
      return e.isHelp() ? 0 : 2;
    }
    OutOfMemoryHalt.install("inverting-proxy-server", err);
    try {
      server.start();
    } catch (Exception e) {
      err.println("inverting-proxy-server: cannot start: " + describe(e));
      try {
        server.close(); // the other listener may have opened
      } catch (Exception ignored) {
        // already reported why it failed
      }
      return 1;
    }
    out.println("inverting-proxy-server listening on " + server.url()
        + " (agents: " + server.url() + "agent/, admin API: " + server.adminUrl() + "api/backends, admin page: "
        + server.adminUrl() + "admin/"
        + (server.metricsUrl() == null ? "" : ", metrics: " + server.metricsUrl()) + ")");
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        err.println("inverting-proxy-server: error while stopping: " + describe(e));
      }
      stopped.countDown();
    }, "shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  // Stays whole: the flag table, read just after it is declared, is one list that --help prints in order.
  static StandaloneServer configure(String[] args, Map<String, String> env, PrintStream out, PrintStream err)
      throws Flags.UsageException {
    Flags flags = new Flags("inverting-proxy-server",
        "The stand-alone inverting proxy. One port (--port) serves the user-facing proxy on every path and\n"
            + "the agent calls (requests under /agent/ that carry X-Inverting-Proxy-Backend-ID); another\n"
            + "(--admin-port) serves the admin API under /api/backends.\n"
            + "Manage backend records with: inverting-proxy-server backends list|get|create|update|delete (see backends --help).", env);
    Flags.Flag<Integer> port = flags.integer("port", 8080, "TCP port to listen on; 0 picks a free one").env("PORT");
    Flags.Flag<String> bind = flags.string("bind", "127.0.0.1",
        "address to listen on; 0.0.0.0 for every interface").env("BIND");
    Flags.Flag<Integer> adminPort = flags.integer("admin-port", 8081,
        "TCP port of the admin API (/api/backends); 0 picks a free one").env("ADMIN_PORT");
    Flags.Flag<String> adminBind = flags.string("admin-bind", "",
        "address the admin API listens on; empty: the same as --bind").env("ADMIN_BIND");
    Flags.Flag<String> dataDir = flags.string("data-dir", "",
        "folder where backend records are saved (backends.json, replaced atomically on every change);\n"
            + "empty keeps them in memory only").env("DATA_DIR");
    Flags.Flag<Duration> responseTimeout = flags.duration("response-timeout", Duration.ofSeconds(60),
        "how long a client waits for the agent's response to begin before it gets 504");
    Flags.Flag<Duration> pendingTimeout = flags.duration("pending-timeout", Duration.ofSeconds(30),
        "how long an agent's agent/pending poll is held when no request is waiting;\n"
            + "keep it below the agents' --proxy-timeout");
    Flags.Flag<Duration> liveWindow = flags.duration("live-window", Duration.ofMinutes(5),
        "a backend is live while its agent polled within this time; others get 503");
    Flags.Flag<String> auth = flags.string("auth", "none",
        "none: no authentication (local use only); tokens: bearer tokens from --tokens-file;\n"
            + "google: Google ID or access tokens; iap: users through Identity-Aware Proxy; google,iap: both").env("AUTH");
    Flags.Flag<String> tokensFile = flags.string("tokens-file", "",
        "with --auth tokens: a file of lines \"TOKEN admin\", \"TOKEN agent EMAIL\" or \"TOKEN user EMAIL\"")
        .env("TOKENS_FILE");
    GoogleAuthFlags googleAuth = new GoogleAuthFlags(flags);
    Flags.Flag<Integer> maxHeaderBytes = flags.integer("max-header-bytes", MessageLimits.DEFAULT.maxLineLength(),
        "largest request head (request line and headers) accepted; larger gets 431");
    Flags.Flag<Integer> maxHeaders = flags.integer("max-headers", MessageLimits.DEFAULT.maxHeaderCount(),
        "most header fields in one request; more gets 431");
    Flags.Flag<Integer> maxThreads = flags.integer("max-threads", 1000,
        "most request threads; a client holds one while it waits for its response only when its body is chunked or over 64 KiB");
    Flags.Flag<Long> maxBufferedBytes = flags.byteCount("max-buffered-bytes", BufferBudget.defaultLimit(),
        "most bytes of request bodies held in memory by all clients waiting without a thread together;\n"
            + "past it a request with a body gets 503 with Retry-After; by default a quarter of this JVM's heap (-Xmx)");
    Flags.Flag<Duration> readHeaderTimeout = flags.duration("read-header-timeout",
        StandaloneServer.DEFAULT_READ_HEADER_TIMEOUT,
        "a request head (request line and headers) must arrive whole within this time, counted from the accept\n"
            + "or from its first byte; a slower client is disconnected");
    Flags.Flag<Integer> maxConnections = flags.integer("max-connections", StandaloneServer.DEFAULT_MAX_CONNECTIONS,
        "most open connections; at this many the server accepts no more until one closes (others wait in the kernel's queue)");
    Flags.Flag<Boolean> webSockets = flags.bool("websockets", true,
        "carry WebSocket upgrades to agents that announce support; false answers them with 501");
    Flags.Flag<Integer> wsMaxMessage = flags.integer("websocket-max-message-size",
        (int) RelayLimits.DEFAULT_MAX_MESSAGE_SIZE,
        "largest WebSocket message (bytes) in either direction; a larger one closes the socket with 1009");
    Flags.Flag<Duration> wsIdle = flags.duration("websocket-idle-timeout", RelayLimits.DEFAULT_IDLE_TIMEOUT,
        "a WebSocket from which nothing (not even a pong) arrives for this long is closed with 1001");
    Flags.Flag<Duration> wsPing = flags.duration("websocket-ping-interval", RelayLimits.DEFAULT_PING_INTERVAL,
        "ping a WebSocket that has been quiet for this long; 0 sends no pings");
    Flags.Flag<Boolean> channels = flags.bool("channels", true,
        "offer agents that announce it an agent/channel WebSocket carrying their small requests and responses\n"
            + "(channel extension; needs --websockets); false: the three calls only");
    Flags.Flag<String> metricsBind = flags.string("metrics-bind", "",
        "HOST:PORT of a listener of its own serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9090);\n"
            + "empty: no metrics").env("METRICS_BIND");
    Flags.Flag<String> tlsCert = flags.string("tls-cert", "",
        "PEM file of the server's certificate, then any intermediates: with --tls-key, both ports speak\n"
            + "HTTPS (HTTP/2 or HTTP/1.1); re-read when it changes (certbot, cert-manager renewals)").env("TLS_CERT");
    Flags.Flag<String> tlsKey = flags.string("tls-key", "",
        "PEM file of the certificate's private key (PKCS#8, or PKCS#1 RSA / SEC1 EC; not encrypted)").env("TLS_KEY");
    Flags.Flag<Boolean> debug = flags.bool("debug", false, "log every detail");
    flags.parse(args);

    LogFormat.install(debug.get() ? Level.FINE : Level.INFO);
    StandaloneServer.Builder b = StandaloneServer.builder();
    try {
      b.port(port.get()).bind(bind.get()).adminPort(adminPort.get())
          .adminBind(adminBind.get().isEmpty() ? null : adminBind.get()).liveWindow(liveWindow.get()).maxThreads(maxThreads.get())
          .settings(ProxySettings.builder()
              .responseTimeout(responseTimeout.get())
              .pendingTimeout(pendingTimeout.get())
              .messageLimits(new MessageLimits(maxHeaderBytes.get(), maxHeaders.get()))
              .bufferBudget(new BufferBudget(maxBufferedBytes.get()))
              .build())
          .readHeaderTimeout(readHeaderTimeout.get()).maxConnections(maxConnections.get())
          .webSockets(webSockets.get() ? new RelayLimits(wsMaxMessage.get(), wsIdle.get(), wsPing.get()) : null)
          .channels(channels.get())
          .metricsBind(metricsBind.get().isEmpty() ? null : metricsBind.get());
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException(e.getMessage(), false);
    }
    if (!dataDir.get().isEmpty()) {
      b.dataDir(Path.of(dataDir.get()));
    }
    auth(b, auth.get(), tokensFile.get(), googleAuth, err);
    if (tlsCert.get().isEmpty() != tlsKey.get().isEmpty()) {
      throw new Flags.UsageException(tlsCert.get().isEmpty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key", false);
    }
    if (!tlsCert.get().isEmpty()) {
      b.tls(new CertificateFiles(Path.of(tlsCert.get()), Path.of(tlsKey.get())));
    }
    if (pendingTimeout.get().compareTo(Duration.ofSeconds(55)) > 0) {
      err.println("WARNING: --pending-timeout " + GoDuration.format(pendingTimeout.get())
          + " is close to or above the agents' default --proxy-timeout of 60s; their polls may time out");
    }
    if (dataDir.get().isEmpty()) {
      out.println("Backend records are kept in memory only (no --data-dir): a restart forgets them.");
    }
    try {
      return b.build();
    } catch (CertificateFiles.Unusable e) {
      throw new Flags.UsageException((e.isKey() ? "--tls-key " : "--tls-cert ") + e.file() + ": " + e.problem(), false);
    } catch (java.io.IOException e) {
      throw new Flags.UsageException(e.getMessage(), false);
    }
  }

  /** {@code --auth} and the flags that go with it: the identity {@code b} serves with. */
  private static void auth(StandaloneServer.Builder b, String auth, String tokensFile, GoogleAuthFlags googleAuth,
      PrintStream err) throws Flags.UsageException {
    if (!GoogleAuthFlags.isGoogle(auth)) {
      googleAuth.requireUnused(auth);
    }
    switch (auth) {
      case "none" -> {
        if (!tokensFile.isEmpty()) {
          throw new Flags.UsageException("--tokens-file needs --auth tokens", false);
        }
        err.println("WARNING: --auth none: anyone who can reach these ports may use every backend, act as any"
            + " agent and change backend records. Use it only on a trusted machine.");
      }
      case "tokens" -> {
        if (tokensFile.isEmpty()) {
          throw new Flags.UsageException("--auth tokens needs --tokens-file", false);
        }
        b.tokensFile(Path.of(tokensFile));
      }
      default -> {
        if (!GoogleAuthFlags.isGoogle(auth)) {
          throw new Flags.UsageException("--auth must be none, tokens, google, iap or google,iap, not \"" + auth + "\"", false);
        }
        if (!tokensFile.isEmpty()) {
          throw new Flags.UsageException("--tokens-file needs --auth tokens", false);
        }
        b.identity(googleAuth.identity(auth, err));
      }
    }
  }

  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.toString() : root.getMessage();
  }
}
