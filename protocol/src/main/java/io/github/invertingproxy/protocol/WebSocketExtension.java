package io.github.invertingproxy.protocol;

/**
 * The protocol's WebSocket extension (docs/protocol.md, "WebSocket extension"): names that both the
 * proxy and the agent use. An agent announces that it can carry WebSocket upgrades with
 * {@link AgentFeatures#WEBSOCKET} in {@link AgentFeatures#HEADER} on {@code agent/pending}; for each
 * upgrade it fetches the client's request with {@code agent/request} as usual, opens its own WebSocket to {@link #AGENT_PATH}, and answers
 * {@code agent/response} with the backend's {@code 101} head. Peers that know nothing of it (the
 * original Go agent and proxy) ignore the extra header, so the three calls stay as they were.
 */
public final class WebSocketExtension {
  /** The agent's WebSocket for one exchange, relative to the agent-facing base URL. */
  public static final String AGENT_PATH = "agent/websocket";

  private WebSocketExtension() {}

  /**
   * Whether {@code headers} ask for a WebSocket upgrade: {@code Upgrade: websocket} and a
   * {@code Connection} field naming {@code upgrade} (RFC 6455 section 4.1). The method and the
   * handshake's other fields are checked by whoever performs it.
   */
  public static boolean asksForWebSocket(Headers headers) {
    return headers.hasElement("Upgrade", "websocket") && headers.hasElement("Connection", "upgrade");
  }
}
