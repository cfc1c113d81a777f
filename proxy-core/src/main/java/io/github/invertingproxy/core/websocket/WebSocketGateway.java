package io.github.invertingproxy.core.websocket;

import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Carries WebSocket upgrades natively (docs/protocol.md, "WebSocket extension"). A proxy that has one
 * relays a client's upgrade to an agent that announced the {@code websocket} feature; a proxy without
 * one (such as App Engine's, which cannot accept upgrades) answers upgrades with 501.
 *
 * <p>The exchange: the client's upgrade request is queued like any request; the agent fetches it,
 * dials the backend, opens its own WebSocket to {@code agent/websocket} for that request id
 * ({@link #acceptAgent}), and answers {@code agent/response} with the backend's {@code 101} head, upon
 * which the client's connection is upgraded and joined with the agent's socket ({@link #acceptClient}).
 */
public interface WebSocketGateway {
  /** An agent of {@code backendId} polled with this {@code X-Inverting-Proxy-Agent-Features} value (null: none). */
  void agentPolled(String backendId, String features);

  /** Whether the agent of {@code backendId} announced WebSocket support on its latest poll. */
  boolean agentCarriesWebSockets(String backendId);

  /** The client's upgrade request was queued as {@code requestId}; its agent may now open its socket. */
  void expect(String backendId, String requestId);

  /**
   * The agent's own WebSocket for {@code requestId}, on a call already authorised for
   * {@code backendId}: upgraded when that request is a waiting upgrade of that backend, else answered
   * with an error status.
   */
  void acceptAgent(HttpServletRequest request, HttpServletResponse response, String backendId, String requestId)
      throws IOException;

  /**
   * The agent answered {@code requestId} with {@code agentHead} ({@code 101}): upgrades the client's
   * connection with the subprotocol the backend accepted and joins it with the agent's socket.
   *
   * @param label how the socket is named in logs
   * @return 101 when the client was upgraded, else the error status the client got
   */
  int acceptClient(HttpServletRequest request, HttpServletResponse response, String requestId, ResponseHead agentHead,
      String label) throws IOException;

  /** The exchange {@code requestId} is over; an agent socket for it that was never joined is closed. */
  void forget(String requestId);

  /**
   * Whether agents may open an {@code agent/channel} (docs/protocol.md, "Channel extension"); a poll
   * that announced {@code channel} is then answered with the offer. False by default.
   */
  default boolean carriesChannels() {
    return false;
  }

  /**
   * The agent's channel ({@code agent/channel}), on a call already authorised for {@code backendId}:
   * upgraded, else answered with an error status.
   *
   * @param mayServe asked before each request is sent: whether the caller may still serve the
   *     backend (its record may have changed since); when not, the channel is closed
   */
  default void acceptChannel(HttpServletRequest request, HttpServletResponse response, String backendId,
      BooleanSupplier mayServe) throws IOException {
    response.sendError(404, "this proxy takes no agent channels");
  }
}
