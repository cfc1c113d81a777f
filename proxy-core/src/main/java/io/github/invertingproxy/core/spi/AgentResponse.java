package io.github.invertingproxy.core.spi;

import java.io.InputStream;

/** The agent's response as the waiting client's side receives it. */
public interface AgentResponse {
  /** The serialized response (HTTP/1.1 wire format); may still be arriving. */
  InputStream stream();

  /**
   * The whole response is in memory (it came in one piece, over a channel): reading {@link #stream()}
   * never blocks. A relay given a whole response runs on a thread that must not wait, so it writes it
   * to the client in one non-blocking write.
   */
  default boolean whole() {
    return false;
  }

  /** Reports how the relay ended, which decides the answer to the agent's {@code agent/response} call. */
  void finished(ResponseOutcome outcome);
}
