package io.github.invertingproxy.core.spi;

/** How an agent's {@code agent/response} call ended, and the status it is answered with. */
public enum ResponseOutcome {
  /** The response reached the client. */
  RELAYED(200),
  /** No client is waiting for that id: it gave up, or never existed. */
  NO_WAITING_CLIENT(404),
  /** The body was not a parseable HTTP response. */
  MALFORMED(400),
  /** The client went away while the response was being relayed. */
  CLIENT_GONE(404),
  /** The agent's own stream broke off before the response was complete. */
  TRUNCATED(400);

  private final int status;

  ResponseOutcome(int status) {
    this.status = status;
  }

  /** The HTTP status for the agent. */
  public int status() {
    return status;
  }
}
