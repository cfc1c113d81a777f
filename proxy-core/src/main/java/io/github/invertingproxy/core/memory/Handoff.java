package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

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

  /** Waits for the client's thread to say how its relay ended; CLIENT_GONE when this thread is interrupted. */
  ResponseOutcome awaitOutcome() throws IOException {
    try {
      return outcome.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ResponseOutcome.CLIENT_GONE;
    } catch (ExecutionException e) {
      throw new IOException("relaying the response failed", e.getCause());
    }
  }
}
