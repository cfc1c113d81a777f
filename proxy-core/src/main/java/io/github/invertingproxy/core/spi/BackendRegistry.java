package io.github.invertingproxy.core.spi;

import io.github.invertingproxy.protocol.BackendRecord;
import java.util.List;
import java.util.Optional;

/**
 * The backend records, and the two facts kept about each: when its agent last polled
 * ({@link #markSeen}) and when a user request last reached it ({@link #markUsed}).
 */
public interface BackendRegistry {
  /**
   * Stores a new record.
   *
   * @throws DuplicateBackendException when a record with that id exists
   */
  void add(BackendRecord record);

  /** Replaces the record with the same id; false when there is none. */
  boolean update(BackendRecord record);

  /** The record, with {@code lastUsed} filled in. */
  Optional<BackendRecord> get(String id);

  /** Every record, ordered by id, with {@code lastUsed} filled in. */
  List<BackendRecord> list();

  /** Removes the record; false when there was none. */
  boolean delete(String id);

  /**
   * Chooses the backend for a user's request by {@link Route#choose}: the user's own record with the
   * longest matching prefix, or, when none of the user's own matches, the {@code allUsers} record with
   * the longest; {@link Route#notLive} for that record when its agent is not live, whatever other
   * record is. {@code path} is the normalised path ({@code RequestTarget}). {@code userEmail} is empty
   * for an anonymous user, who matches {@code allUsers} records only.
   */
  Route route(String userEmail, String path);

  /** Whether {@code account} may act as the agent of {@code backendId}; false for an unknown id. */
  default boolean agentMayServe(AgentAccount account, String backendId) {
    return get(backendId).map(account::mayServe).orElse(false);
  }

  /** The backend's agent polled just now. */
  void markSeen(String backendId);

  /** A user request was routed to the backend just now. */
  void markUsed(String backendId);
}
