package io.github.invertingproxy.core.spi;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.BackendRecord;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Predicate;

/** Where a user request goes: to a live backend, to one whose agent is not live, or nowhere. */
public final class Route {
  public enum Kind { LIVE, NOT_LIVE, NO_MATCH }

  private static final Route NONE = new Route(Kind.NO_MATCH, null);

  private final Kind kind;
  private final BackendRecord backend;

  private Route(Kind kind, BackendRecord backend) {
    this.kind = kind;
    this.backend = backend;
  }

  public static Route live(BackendRecord backend) {
    return new Route(Kind.LIVE, requireNonNull(backend, "backend"));
  }

  public static Route notLive(BackendRecord backend) {
    return new Route(Kind.NOT_LIVE, requireNonNull(backend, "backend"));
  }

  public static Route none() {
    return NONE;
  }

  public Kind kind() {
    return kind;
  }

  /** The chosen backend; empty for {@link Kind#NO_MATCH}. */
  public Optional<BackendRecord> backend() {
    return Optional.ofNullable(backend);
  }

  /**
   * The routing rule, shared by every registry: the user's own record with the longest prefix that
   * {@code path} starts with; records for {@code allUsers} only when none of the user's own matches.
   * Liveness plays no part in the choice: when the chosen record's agent is not live, the answer is
   * {@link Kind#NOT_LIVE} for that record, never another record's backend (which would receive the
   * user's request, cookies included, meant for the chosen one).
   */
  public static Route choose(Collection<BackendRecord> records, String userEmail, String path,
      Predicate<BackendRecord> isLive) {
    requireNonNull(userEmail, "userEmail");
    requireNonNull(path, "path");
    BackendRecord chosen = best(records, userEmail, path);
    if (chosen == null) {
      chosen = best(records, BackendRecord.ALL_USERS, path);
    }
    if (chosen == null) {
      return none();
    }
    return isLive.test(chosen) ? live(chosen) : notLive(chosen);
  }

  private static BackendRecord best(Collection<BackendRecord> records, String endUser, String path) {
    if (endUser.isEmpty()) {
      return null;
    }
    BackendRecord best = null;
    int bestLength = -1;
    for (BackendRecord r : records) {
      if (!r.endUser().equalsIgnoreCase(endUser)) {
        continue;
      }
      int length = r.longestPrefixMatching(path);
      // Ties go to the smaller id, so that routing does not depend on storage order.
      if (length > bestLength || (length == bestLength && length >= 0 && r.id().compareTo(best.id()) < 0)) {
        best = r;
        bestLength = length;
      }
    }
    return bestLength < 0 ? null : best;
  }

  @Override
  public String toString() {
    return kind + (backend == null ? "" : "(" + backend.id() + ")");
  }
}
