package io.github.invertingproxy.agent;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
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

  record Sessions(String cookieName, Duration timeout, int limit) {}

  record HealthCheckSettings(String path, Duration interval, int unhealthyThreshold) {}
}
