package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the admin API tells about a backend's agent beside its record, all output only: when the agent
 * last polled, whether that was within the live window, and, where the store can count them cheaply,
 * the agent connections open now (held polls and channels) and the requests not yet answered.
 */
public record BackendStatus(Optional<Instant> lastSeen, boolean live, OptionalInt agentsConnected,
    OptionalInt requestsInFlight) {
  public BackendStatus {
    requireNonNull(lastSeen, "lastSeen");
    requireNonNull(agentsConnected, "agentsConnected");
    requireNonNull(requestsInFlight, "requestsInFlight");
  }

  /** Live status from the last poll alone, for a store that cannot count connections or requests cheaply. */
  public static BackendStatus seen(Optional<Instant> lastSeen, boolean live) {
    return new BackendStatus(lastSeen, live, OptionalInt.empty(), OptionalInt.empty());
  }
}
