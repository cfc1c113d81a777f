package io.github.invertingproxy.agent.websocket;

import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;

/** Posts the agent's answer to one request with {@code agent/response}; the forwarder supplies it. */
@FunctionalInterface
public interface ResponsePoster {
  /**
   * @param head a complete head: {@code Content-Length} present whenever {@code body} is not empty
   * @return the proxy's status: 200 once relayed, 404 when no client waits any more
   */
  int post(ResponseHead head, byte[] body) throws IOException;
}
