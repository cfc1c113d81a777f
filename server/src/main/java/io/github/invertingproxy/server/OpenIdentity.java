package io.github.invertingproxy.server;

import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.Identity;
import java.io.IOException;
import java.util.Optional;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * {@code --auth none}: everyone is an anonymous end user (routed to {@code allUsers} backends), any
 * caller may act as any backend's agent, and the admin API is open. For local use only.
 */
final class OpenIdentity implements Identity {
  @Override
  public Optional<String> endUser(HttpServletRequest request) {
    return Optional.of("");
  }

  @Override
  public void challengeEndUser(HttpServletRequest request, HttpServletResponse response) {
    throw new IllegalStateException("every caller is accepted without authentication");
  }

  @Override
  public Optional<AgentAccount> agentAccount(HttpServletRequest request) {
    return Optional.of(AgentAccount.unrestricted());
  }

  @Override
  public Access adminAccess(HttpServletRequest request) {
    return Access.ALLOWED;
  }
}
