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
   * The routing rule, shared by every registry: among {@code records} that are live, the user's own
   * by longest matching prefix, then those for {@code allUsers}; when none of those is live, the
   * best dead match is reported as {@link Kind#NOT_LIVE}.
   */
  public static Route choose(Collection<BackendRecord> records, String userEmail, String path,
      Predicate<BackendRecord> isLive) {
    requireNonNull(userEmail, "userEmail");
    requireNonNull(path, "path");
    BackendRecord live = best(records, userEmail, path, isLive);
    if (live == null) {
      live = best(records, BackendRecord.ALL_USERS, path, isLive);
    }
    if (live != null) {
      return live(live);
    }
    BackendRecord dead = best(records, userEmail, path, r -> true);
    if (dead == null) {
      dead = best(records, BackendRecord.ALL_USERS, path, r -> true);
    }
    return dead == null ? none() : notLive(dead);
  }

  private static BackendRecord best(Collection<BackendRecord> records, String endUser, String path,
      Predicate<BackendRecord> accept) {
    if (endUser.isEmpty()) {
      return null;
    }
    BackendRecord best = null;
    int bestLength = -1;
    for (BackendRecord r : records) {
      if (!r.endUser().equalsIgnoreCase(endUser) || !accept.test(r)) {
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
