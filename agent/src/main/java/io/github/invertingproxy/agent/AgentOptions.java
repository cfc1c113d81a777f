package io.github.invertingproxy.agent;

import io.github.invertingproxy.agent.channel.HeldRequests;
import io.github.invertingproxy.agent.credentials.CredentialOptions;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.metrics.AgentMetrics;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.proxy.ProxyTrust;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.commandline.Flags;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * The agent's command line: the original Go agent's flag names and defaults, with the Docker image's
 * environment variables ({@code PROXY}, {@code BACKEND}, {@code HOSTNAME} and {@code PORT}) as
 * fallbacks, plus a few of our own.
 */
record AgentOptions(
    String proxy,
    String backend,
    String host,
    Duration proxyTimeout,
    Duration requestForwardingTimeout,
    boolean forwardUserId,
    boolean stripCredentials,
    boolean debug,
    boolean disableSslForTest,
    SSLContext proxyTrust,
    ProxyCredentials credentials,
    int maxConcurrentRequests,
    long maxBufferedBytes,
    Duration gracefulShutdownTimeout,
    boolean chainRequests,
    boolean channel,
    boolean backendSelector,
    WebSocketOptions webSockets,
    OriginalFeatures features,
    String metricsBind) {

  static final String PROGRAM = "inverting-proxy-agent";
  private static final String SUMMARY =
      "Forwards requests from an inverting proxy to a backend server: polls the proxy for client\n"
          + "requests, replays them against the backend and streams the responses back.";

  /**
   * Parses and checks a command line.
   *
   * @throws Flags.UsageException with a one-line message naming the flag at fault, or the help text
   */
  // Long on purpose: one statement per flag, in the order --help prints them, then their checks.
  static AgentOptions parse(String[] args, Map<String, String> env) throws Flags.UsageException {
    Flags flags = new Flags(PROGRAM, SUMMARY, env);
    Flags.Flag<String> proxy = flags.string("proxy", "",
        "URL (including scheme) of the inverting proxy; a missing final / is added").env("PROXY");
    Flags.Flag<String> backend = flags.string("backend", "", "Unique ID for this backend").env("BACKEND");
    Flags.Flag<String> host = flags.string("host", ForwardingAgent.DEFAULT_TARGET,
        "Hostname (including port) of the backend server, host:port or http://host:port\n"
            + "[env PORT: localhost:$PORT, or $HOSTNAME:$PORT when HOSTNAME is set too]");
    Flags.Flag<Duration> proxyTimeout = flags.duration("proxy-timeout", ForwardingAgent.DEFAULT_PROXY_TIMEOUT,
        "Client timeout when sending requests to the inverting proxy").env("PROXY_TIMEOUT");
    Flags.Flag<Duration> forwardingTimeout = flags.duration("request-forwarding-timeout", Duration.ZERO,
        "Timeout for forwarding one request to the backend and streaming its response back;\n"
            + "0 means none").env("REQUEST_FORWARDING_TIMEOUT");
    Flags.Flag<Boolean> forwardUserId = flags.bool("forward-user-id", false,
        "Whether or not to include the ID (email address) of the end user in requests to the backend")
        .env("FORWARD_USER_ID");
    Flags.Flag<Boolean> stripCredentials = flags.bool("strip-credentials", false,
        "Whether to strip the Authorization header from all requests to the backend").env("STRIP_CREDENTIALS");
    CredentialOptions credentials = CredentialOptions.define(flags);
    Flags.Flag<Integer> maxConcurrent = flags.integer("max-concurrent-requests",
        ForwardingAgent.DEFAULT_MAX_CONCURRENT_REQUESTS,
        "How many requests are forwarded at once; more wait their turn (a streaming response holds one)");
    Flags.Flag<Long> maxBuffered = flags.byteCount("max-buffered-bytes", HeldRequests.defaultLimit(),
        "Most bytes of requests taken whole from the channel that may wait for a request thread; while they\n"
            + "fill it the channel is read no further; by default a quarter of this JVM's heap (-Xmx)");
    Flags.Flag<Duration> grace = flags.duration("graceful-shutdown-timeout", Duration.ZERO,
        "On SIGTERM, stop polling and let requests in flight finish for up to this long, then exit 0;\n"
            + "0 (the original's default) cuts them off at once").env("GRACEFUL_SHUTDOWN_TIMEOUT");
    Flags.Flag<Boolean> chain = flags.bool("chain-requests", true,
        "Take the next waiting request from the proxy's answer to each response (an extension the\n"
            + "original proxy ignores); false asks the proxy for every request separately");
    Flags.Flag<Boolean> channel = flags.bool("channel", true,
        "Take small requests over one agent/channel WebSocket when the proxy offers it (channel\n"
            + "extension, which the original proxy never offers); false: the three calls only");
    Flags.Flag<Boolean> selector = flags.bool("backend-selector", true,
        "Send small channel requests to a plain-HTTP backend from one selector thread instead of a\n"
            + "request thread each; false: every request takes a thread and a pooled connection");
    Flags.Flag<String> metricsBind = flags.string("metrics-bind", "",
        "HOST:PORT of a listener serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9091);\n"
            + "empty: no metrics").env("METRICS_BIND");
    Flags.Flag<Boolean> debug = flags.bool("debug", false, "Whether or not to print debug log messages")
        .env("DEBUG");
    Flags.Flag<Boolean> disableSsl = flags.bool("disable-ssl-for-test", false,
        "Accept any certificate from an https proxy; for tests with a self-signed proxy only");
    Flags.Flag<String> caCert = flags.string("ca-cert", "",
        "PEM file of a private certificate authority whose certificates the agent accepts from an https\n"
            + "proxy, besides the system's trusted ones").env("CA_CERT");

    WebSocketOptions.Definitions webSockets = WebSocketOptions.define(flags);
    OriginalFeatures features = OriginalFeatures.define(flags);
    List<String> rest = flags.parse(args);
    if (!rest.isEmpty()) {
      throw new Flags.UsageException("unexpected argument \"" + rest.get(0) + "\" (flags start with --)", false);
    }
    if (proxy.get().isEmpty()) {
      throw new Flags.UsageException(
          "missing --proxy (or PROXY): the URL of the inverting proxy, such as https://proxy.example.com/", false);
    }
    if (backend.get().isEmpty()) {
      throw new Flags.UsageException("missing --backend (or BACKEND): the ID of the backend this agent serves", false);
    }
    SSLContext proxyTrust = null;
    if (!caCert.get().isEmpty()) {
      if (disableSsl.get()) {
        throw new Flags.UsageException("--ca-cert and --disable-ssl-for-test exclude each other", false);
      }
      try {
        proxyTrust = ProxyTrust.systemAnd(Path.of(caCert.get()));
      } catch (IOException e) {
        throw new Flags.UsageException("--ca-cert " + e.getMessage(), false);
      }
    }
    String target = host.get();
    String port = env.getOrDefault("PORT", "");
    if (!host.isSet() && !port.isEmpty()) {
      String hostname = env.getOrDefault("HOSTNAME", "");
      target = (hostname.isEmpty() ? "localhost" : hostname) + ":" + port;
    }
    AgentOptions options = new AgentOptions(proxy.get(), backend.get(), target, proxyTimeout.get(),
        forwardingTimeout.get(), forwardUserId.get(), stripCredentials.get(), debug.get(), disableSsl.get(), proxyTrust,
        credentials.credentials(env, proxy.get()), maxConcurrent.get(), maxBuffered.get(), grace.get(), chain.get(), channel.get(),
        selector.get(),
        webSockets.options(), features, metricsBind.get().isEmpty() ? null : metricsBind.get());
    options.check();
    features.check();
    return options;
  }

  /** The agent these options describe, not yet started. */
  ForwardingAgent toAgent() {
    return toAgent(AgentObserver.NONE);
  }

  /** The agent these options describe, telling {@code observer} (the metrics); not yet started. */
  ForwardingAgent toAgent(AgentObserver observer) {
    ForwardingAgent.Builder builder = ForwardingAgent.builder()
        .observer(observer)
        .proxyUrl(proxy)
        .backendId(backend)
        .target(host)
        .credentials(credentials)
        .proxyTimeout(proxyTimeout)
        .requestForwardingTimeout(requestForwardingTimeout)
        .forwardUserId(forwardUserId)
        .stripCredentials(stripCredentials)
        .disableSslForTest(disableSslForTest)
        .proxyTrust(proxyTrust)
        .maxConcurrentRequests(maxConcurrentRequests)
        .maxBufferedBytes(maxBufferedBytes)
        .shutdownGracePeriod(gracefulShutdownTimeout)
        .chainRequests(chainRequests)
        .channel(channel)
        .backendSelector(backendSelector)
        .webSockets(webSockets);
    features.applyTo(builder);
    return builder.build();
  }

  /** The proxy URL as the agent will use it: with a final {@code /}. */
  String proxyUrl() {
    return Origin.parseProxyUrl(proxy).url();
  }

  private void check() throws Flags.UsageException {
    ForwardingAgent.Builder b = ForwardingAgent.builder();
    check("--proxy", () -> b.proxyUrl(proxy));
    check("--backend", () -> b.backendId(backend));
    check(host.equals(ForwardingAgent.DEFAULT_TARGET) ? "--host" : "--host (or PORT)", () -> b.target(host));
    check("--proxy-timeout", () -> b.proxyTimeout(proxyTimeout));
    check("--request-forwarding-timeout", () -> b.requestForwardingTimeout(requestForwardingTimeout));
    check("--max-concurrent-requests", () -> b.maxConcurrentRequests(maxConcurrentRequests));
    check("--max-buffered-bytes", () -> b.maxBufferedBytes(maxBufferedBytes));
    check("--graceful-shutdown-timeout", () -> b.shutdownGracePeriod(gracefulShutdownTimeout));
    if (metricsBind != null) {
      try {
        AgentMetrics.address(metricsBind);
      } catch (IllegalArgumentException e) {
        throw new Flags.UsageException(e.getMessage(), false);
      }
    }
  }

  private static void check(String flag, Runnable setter) throws Flags.UsageException {
    try {
      setter.run();
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException("invalid " + flag + ": " + e.getMessage(), false);
    }
  }
}
