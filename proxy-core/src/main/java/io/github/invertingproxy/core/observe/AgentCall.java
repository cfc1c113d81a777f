package io.github.invertingproxy.core.observe;

/**
 * One call an agent made ({@code /agent/...}) and the status it was answered with.
 *
 * @param backend the backend the call named; empty when it named none
 */
public record AgentCall(Kind kind, String backend, int status) {
  public enum Kind {
    PENDING, REQUEST, RESPONSE, WEBSOCKET, CHANNEL;

    /** The label of this kind: its lower-case name, as in the call's path. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
