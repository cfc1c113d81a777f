package io.github.invertingproxy.protocol;

/** The three agent calls, relative to the agent-facing base URL that ends with {@code /}. */
public final class AgentPaths {
  public static final String PENDING = "agent/pending";
  public static final String REQUEST = "agent/request";
  public static final String RESPONSE = "agent/response";

  private AgentPaths() {}
}
