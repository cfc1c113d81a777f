package io.github.invertingproxy.agent;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.protocol.GoDuration;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * Everything a {@link ForwardingAgent.Builder} was told, checked and fixed: what {@link RunningAgent}
 * is built from. See the builder's methods for what each means.
 *
 * @param sessions null when the agent keeps no sessions
 * @param healthCheck null when the backend is not checked
 * @param webSockets null when the agent carries no WebSockets
 * @param proxyTrust null for the JVM's own trust store
 */
record AgentSettings(
    Origin.ProxyBase proxyUrl,
    String backendId,
    Origin target,
    ProxyCredentials credentials,
    Duration proxyTimeout,
    Duration requestForwardingTimeout,
    boolean forwardUserId,
    boolean stripCredentials,
    boolean disableSslForTest,
    SSLContext proxyTrust,
    int maxConcurrentRequests,
    long maxBufferedBytes,
    Duration shutdownGracePeriod,
    List<HtmlSnippet> htmlSnippets,
    Sessions sessions,
    HealthCheckSettings healthCheck,
    boolean forceHttp2,
    boolean chainRequests,
    boolean channel,
    boolean backendSelector,
    WebSocketOptions webSockets,
    AgentObserver observer) {

  AgentSettings {
    htmlSnippets = List.copyOf(htmlSnippets);
  }

  /** {@code --session-cookie-*}: the one cookie a browser gets, how long it lasts, how many are kept. */
  record Sessions(String cookieName, Duration timeout, int limit) {
    Sessions {
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
    }
  }

  /** {@code --health-check-*}: what to check, how often, and after how many failures in a row to stop. */
  record HealthCheckSettings(String path, Duration interval, int unhealthyThreshold) {
    HealthCheckSettings {
      requireNonNull(path, "path");
      requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("health check interval must be positive, was " + interval);
      }
      if (unhealthyThreshold < 1) {
        throw new IllegalArgumentException("health check unhealthy threshold must be at least 1, was "
            + unhealthyThreshold);
      }
    }
  }
}
