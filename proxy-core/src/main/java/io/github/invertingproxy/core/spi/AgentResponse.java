package io.github.invertingproxy.core.spi;

import java.io.InputStream;

/** The agent's response as the waiting client's side receives it. */
public interface AgentResponse {
  /** The serialized response (HTTP/1.1 wire format); may still be arriving. */
  InputStream stream();

  /** Reports how the relay ended, which decides the answer to the agent's {@code agent/response} call. */
  void finished(ResponseOutcome outcome);
}
