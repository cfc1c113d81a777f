package io.github.invertingproxy.agent.websocket;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.GoDuration;
import io.github.invertingproxy.commandline.Flags;
import io.github.invertingproxy.websocket.RelayLimits;
import java.time.Duration;

/**
 * How the agent carries WebSockets.
 *
 * @param nativeUpgrades carry upgrades as WebSockets through a proxy that supports it, announcing the
 *     {@code websocket} feature on every poll (docs/protocol.md, "WebSocket extension")
 * @param shimWebSockets inject the shim's script into HTML pages ({@code --shim-websockets})
 * @param shimPath the path, without slashes at either end, under which the shim's endpoints are
 *     served ({@code --shim-path}); empty serves none
 * @param rewriteHost dial the backend for a shimmed socket with the page's {@code Host} rather than the
 *     backend's ({@code --rewrite-websocket-host})
 * @param shimTimeout shimmed sockets idle for this long are closed ({@code --websocket-shim-timeout})
 * @param limits bounds of natively relayed sockets (message size, idle timeout, pings); the message
 *     size bounds shimmed messages too
 */
public record WebSocketOptions(boolean nativeUpgrades, boolean shimWebSockets, String shimPath, boolean rewriteHost,
    Duration shimTimeout, RelayLimits limits) {
  public static final Duration DEFAULT_SHIM_TIMEOUT = Duration.ofMinutes(60);

  public WebSocketOptions {
    requireNonNull(shimPath, "shimPath");
    requireNonNull(shimTimeout, "shimTimeout");
    requireNonNull(limits, "limits");
    shimPath = normalizePath(shimPath);
    if (shimTimeout.isNegative() || shimTimeout.isZero()) {
      throw new IllegalArgumentException("the WebSocket shim timeout must be positive, was " + GoDuration.format(shimTimeout));
    }
    if (shimWebSockets && shimPath.isEmpty()) {
      throw new IllegalArgumentException("--shim-websockets needs --shim-path (such as websocket-shim), the path of"
          + " the endpoints the injected script calls");
    }
  }

  /** Native upgrades on, no shim, default limits. */
  public static WebSocketOptions defaults() {
    return new WebSocketOptions(true, false, "", false, DEFAULT_SHIM_TIMEOUT, RelayLimits.DEFAULT);
  }

  /** The shim, at {@code path}, with its script injected into pages. */
  public WebSocketOptions withShim(String path) {
    return new WebSocketOptions(nativeUpgrades, true, path, rewriteHost, shimTimeout, limits);
  }

  public WebSocketOptions withNativeUpgrades(boolean on) {
    return new WebSocketOptions(on, shimWebSockets, shimPath, rewriteHost, shimTimeout, limits);
  }

  public WebSocketOptions withShimTimeout(Duration timeout) {
    return new WebSocketOptions(nativeUpgrades, shimWebSockets, shimPath, rewriteHost, timeout, limits);
  }

  public WebSocketOptions withRewriteHost(boolean on) {
    return new WebSocketOptions(nativeUpgrades, shimWebSockets, shimPath, on, shimTimeout, limits);
  }

  public WebSocketOptions withLimits(RelayLimits newLimits) {
    return new WebSocketOptions(nativeUpgrades, shimWebSockets, shimPath, rewriteHost, shimTimeout, newLimits);
  }

  /** Whether the shim's endpoints are served (whenever a shim path is set, as by the original). */
  public boolean servesShim() {
    return !shimPath.isEmpty();
  }

  /** Whether the shim's script goes into HTML pages. */
  public boolean injectsShim() {
    return shimWebSockets && servesShim();
  }

  private static String normalizePath(String path) {
    String p = path.trim();
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '%' || c == '"' || c == '\'' || c == '<'
          || c == '>' || c == '\\') {
        throw new IllegalArgumentException("the shim path \"" + path + "\" may hold only plain path characters");
      }
    }
    return p;
  }

  /** Declares the WebSocket flags on {@code flags}; read them after parsing with {@link Definitions#options()}. */
  public static Definitions define(Flags flags) {
    return new Definitions(flags);
  }

  /** The WebSocket flags of the agent's command line (the original's, plus our native ones). */
  public static final class Definitions {
    private final Flags.Flag<Boolean> shim;
    private final Flags.Flag<String> path;
    private final Flags.Flag<Boolean> rewriteHost;
    private final Flags.Flag<Duration> shimTimeout;
    private final Flags.Flag<Boolean> nativeUpgrades;
    private final Flags.Flag<Integer> maxMessage;
    private final Flags.Flag<Duration> idleTimeout;
    private final Flags.Flag<Duration> pingInterval;

    private Definitions(Flags flags) {
      shim = flags.bool("shim-websockets", false,
          "Whether or not to replace websockets with a shim: inject a script into HTML pages that speaks\n"
              + "WebSockets over plain HTTP requests to the --shim-path endpoints (for proxies that cannot\n"
              + "carry upgrades, such as App Engine)").env("SHIM_WEBSOCKETS");
      path = flags.string("shim-path", "", "Path under which to handle websocket shim requests")
          .env("SHIM_PATH");
      rewriteHost = flags.bool("rewrite-websocket-host", false,
          "Whether to rewrite the Host header to the original request when shimming a websocket connection")
          .env("REWRITE_WEBSOCKET_HOST");
      shimTimeout = flags.duration("websocket-shim-timeout", DEFAULT_SHIM_TIMEOUT,
          "Shimmed websockets idle for this long are closed");
      nativeUpgrades = flags.bool("native-websockets", true,
          "Carry WebSocket upgrades natively through a proxy that supports it (announced with\n"
              + "X-Inverting-Proxy-Agent-Features: websocket, which other proxies ignore)");
      maxMessage = flags.integer("websocket-max-message-size", (int) RelayLimits.DEFAULT_MAX_MESSAGE_SIZE,
          "Largest WebSocket message in bytes, either direction; a larger one closes the socket with 1009");
      idleTimeout = flags.duration("websocket-idle-timeout", RelayLimits.DEFAULT_IDLE_TIMEOUT,
          "A relayed WebSocket from which nothing (not even a pong) arrives for this long is closed with 1001");
      pingInterval = flags.duration("websocket-ping-interval", RelayLimits.DEFAULT_PING_INTERVAL,
          "Ping a relayed WebSocket that has been quiet for this long; 0 sends no pings");
    }

    /** The parsed values. */
    public WebSocketOptions options() throws Flags.UsageException {
      RelayLimits limits;
      try {
        limits = new RelayLimits(maxMessage.get(), idleTimeout.get(), pingInterval.get());
      } catch (IllegalArgumentException e) {
        throw new Flags.UsageException("invalid WebSocket limit: " + e.getMessage(), false);
      }
      try {
        return new WebSocketOptions(nativeUpgrades.get(), shim.get(), path.get(), rewriteHost.get(),
            shimTimeout.get(), limits);
      } catch (IllegalArgumentException e) {
        throw new Flags.UsageException(e.getMessage(), false);
      }
    }
  }
}
