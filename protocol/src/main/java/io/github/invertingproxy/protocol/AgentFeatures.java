package io.github.invertingproxy.protocol;

/**
 * The protocol's extensions, which an agent announces per call with {@link #HEADER} (docs/protocol.md,
 * "Extensions"). A proxy that knows nothing of them (the original Go proxy) ignores the header, and a
 * proxy uses an extension only with an agent that announced it, so old peers keep the three calls
 * byte for byte.
 */
public final class AgentFeatures {
  /** Agent → proxy: comma-separated feature tokens. */
  public static final String HEADER = ProtocolHeaders.PREFIX + "Agent-Features";
  /** On {@code agent/pending}: the agent carries WebSocket upgrades ({@link WebSocketExtension}). */
  public static final String WEBSOCKET = "websocket";
  /**
   * On {@code agent/response}: the answer may carry the next request waiting for the backend, named
   * by {@link #NEXT_REQUEST_ID}, in place of a separate {@code agent/request} call.
   */
  public static final String NEXT_REQUEST = "next-request";
  /**
   * On {@code agent/pending}: the agent can take requests over an {@code agent/channel} WebSocket
   * ({@link ChannelFrame}). A proxy that will send them answers the poll with this token in
   * {@link #HEADER}; then the agent opens the channel.
   */
  public static final String CHANNEL = "channel";
  /** Proxy → agent, on an {@code agent/response} answer that carries the next request. */
  public static final String NEXT_REQUEST_ID = ProtocolHeaders.PREFIX + "Next-Request-ID";

  private AgentFeatures() {}

  /** Whether a {@link #HEADER} value (possibly null) lists {@code feature}. */
  public static boolean lists(String header, String feature) {
    return FieldList.contains(header, feature);
  }
}
