package io.github.invertingproxy.core.observe;

/** Why an exchange got no relayed response from its backend (or only part of one). */
public enum Failure {
  /** The request itself was refused: a bad target or message, no login, too large, an upgrade not carried. */
  REFUSED,
  /** No backend is registered for the path and user (404). */
  NO_ROUTE,
  /** The proxy's memory for waiting request bodies was full (503 with Retry-After). */
  OVERLOADED,
  /** The chosen backend's agent is not polling (503). */
  NOT_LIVE,
  /** The agent did not begin a response in time (504). */
  TIMEOUT,
  /** The agent's response was broken or missing, or its stream broke off mid-way (502, or an aborted client). */
  AGENT_GONE,
  /** The client's connection broke while its response was written. */
  CLIENT_GONE,
  /** The proxy shut down while the client waited (503). */
  SHUTTING_DOWN
}
