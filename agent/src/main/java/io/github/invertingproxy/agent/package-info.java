/**
 * The forwarding agent: {@link io.github.invertingproxy.agent.ForwardingAgent} and its builder, the
 * command line ({@link io.github.invertingproxy.agent.AgentMain}), and {@code RunningAgent}, which
 * wires the sub-packages into the pipeline. Only this package, {@code credentials}
 * ({@code ProxyCredentials}), {@code observe}, {@code metrics}, {@code html} ({@code HtmlSnippet} and
 * its kinds) and {@code websocket} ({@code WebSocketOptions}) are API; the other sub-packages are
 * internal and may change.
 */
package io.github.invertingproxy.agent;
