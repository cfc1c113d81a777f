package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/** An agent's response on its way to the client, and how its relay ended, which the agent hears. */
final class Handoff implements AgentResponse {
  final InputStream stream;
  final boolean whole;
  final CompletableFuture<ResponseOutcome> outcome = new CompletableFuture<>();

  Handoff(InputStream stream, boolean whole) {
    this.stream = stream;
    this.whole = whole;
  }

  @Override
  public boolean whole() {
    return whole;
  }

  @Override
  public InputStream stream() {
    return stream;
  }

  @Override
  public void finished(ResponseOutcome o) {
    outcome.complete(requireNonNull(o, "outcome"));
  }
}
