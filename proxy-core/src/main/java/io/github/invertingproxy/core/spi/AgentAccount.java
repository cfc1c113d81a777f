package io.github.invertingproxy.core.spi;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.BackendRecord;

/** The authenticated caller of an agent endpoint. */
public final class AgentAccount {
  private static final AgentAccount UNRESTRICTED = new AgentAccount("", true);

  private final String email;
  private final boolean unrestricted;

  private AgentAccount(String email, boolean unrestricted) {
    this.email = email;
    this.unrestricted = unrestricted;
  }

  /** An agent authenticated as {@code email}: it may serve records whose {@code backendUser} is that email. */
  public static AgentAccount of(String email) {
    requireNonNull(email, "email");
    if (email.isEmpty()) {
      throw new IllegalArgumentException("agent account email is empty");
    }
    return new AgentAccount(email, false);
  }

  /** Any caller, when authentication is off ({@code --auth none}): it may serve every record. */
  public static AgentAccount unrestricted() {
    return UNRESTRICTED;
  }

  public String email() {
    return email;
  }

  public boolean mayServe(BackendRecord record) {
    return unrestricted || record.backendUser().equalsIgnoreCase(email);
  }

  @Override
  public String toString() {
    return unrestricted ? "any agent" : email;
  }
}
