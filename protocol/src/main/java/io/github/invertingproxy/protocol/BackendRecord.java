package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A registered backend: which agent account may serve it ({@code backendUser}), whose requests it
 * receives ({@code endUser}, or {@link #ALL_USERS}), and for which path prefixes.
 */
public final class BackendRecord {
  /** The {@code endUser} value that matches every signed-in user. */
  public static final String ALL_USERS = "allUsers";

  // Ids travel in a header and in the admin API's URL path, so keep them URL- and header-safe.
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._~-]{0,127}");
  private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");

  private final String id;
  private final String endUser;
  private final String backendUser;
  private final List<String> pathPrefixes;
  private final Instant lastUsed;

  private BackendRecord(Builder b) {
    this.id = b.id;
    this.endUser = b.endUser;
    this.backendUser = b.backendUser;
    this.pathPrefixes = List.copyOf(b.pathPrefixes);
    this.lastUsed = b.lastUsed;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder().id(id).endUser(endUser).backendUser(backendUser)
        .pathPrefixes(pathPrefixes).lastUsed(lastUsed);
  }

  public String id() {
    return id;
  }

  public String endUser() {
    return endUser;
  }

  public String backendUser() {
    return backendUser;
  }

  public List<String> pathPrefixes() {
    return pathPrefixes;
  }

  /** Output only: when a user request last reached this backend. */
  public Optional<Instant> lastUsed() {
    return Optional.ofNullable(lastUsed);
  }

  public boolean isForAllUsers() {
    return ALL_USERS.equals(endUser);
  }

  /** This record with {@code lastUsed} replaced. */
  public BackendRecord withLastUsed(Instant when) {
    return toBuilder().lastUsed(when).build();
  }

  /** The longest of this record's prefixes that {@code path} starts with, or -1 when none does. */
  public int longestPrefixMatching(String path) {
    int best = -1;
    for (String prefix : pathPrefixes) {
      if (path.startsWith(prefix) && prefix.length() > best) {
        best = prefix.length();
      }
    }
    return best;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BackendRecord r && r.id.equals(id) && r.endUser.equals(endUser)
        && r.backendUser.equals(backendUser) && r.pathPrefixes.equals(pathPrefixes)
        && Objects.equals(r.lastUsed, lastUsed);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, endUser, backendUser, pathPrefixes, lastUsed);
  }

  @Override
  public String toString() {
    return "BackendRecord{id=" + id + ", endUser=" + endUser + ", backendUser=" + backendUser
        + ", pathPrefixes=" + pathPrefixes + (lastUsed == null ? "" : ", lastUsed=" + lastUsed) + "}";
  }

  public static final class Builder {
    private String id;
    private String endUser;
    private String backendUser;
    private List<String> pathPrefixes = List.of();
    private Instant lastUsed;

    private Builder() {}

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder endUser(String endUser) {
      this.endUser = endUser;
      return this;
    }

    public Builder backendUser(String backendUser) {
      this.backendUser = backendUser;
      return this;
    }

    public Builder pathPrefixes(List<String> pathPrefixes) {
      this.pathPrefixes = requireNonNull(pathPrefixes, "pathPrefixes");
      return this;
    }

    public Builder pathPrefixes(String... pathPrefixes) {
      return pathPrefixes(List.of(pathPrefixes));
    }

    public Builder lastUsed(Instant lastUsed) {
      this.lastUsed = lastUsed;
      return this;
    }

    /** @throws InvalidBackendRecordException naming the first field that is missing or invalid */
    public BackendRecord build() {
      if (id == null || id.isEmpty()) {
        throw new InvalidBackendRecordException("id", "id is missing");
      }
      if (!ID.matcher(id).matches()) {
        throw new InvalidBackendRecordException("id",
            "id \"" + id + "\" is invalid: use 1 to 128 of A-Z a-z 0-9 . _ ~ -, starting with a letter or digit");
      }
      if (endUser == null || endUser.isEmpty()) {
        throw new InvalidBackendRecordException("endUser", "endUser is missing: give an email or \"allUsers\"");
      }
      if (!endUser.equals(ALL_USERS) && !EMAIL.matcher(endUser).matches()) {
        throw new InvalidBackendRecordException("endUser",
            "endUser \"" + endUser + "\" is neither an email nor \"allUsers\"");
      }
      if (backendUser == null || backendUser.isEmpty()) {
        throw new InvalidBackendRecordException("backendUser", "backendUser is missing: give the agent's account email");
      }
      if (!EMAIL.matcher(backendUser).matches()) {
        throw new InvalidBackendRecordException("backendUser", "backendUser \"" + backendUser
            + "\" is not an email: give the agent's account email");
      }
      if (pathPrefixes.isEmpty()) {
        throw new InvalidBackendRecordException("pathPrefixes",
            "pathPrefixes is missing or empty: give at least one path, such as [\"/\"]");
      }
      for (String prefix : pathPrefixes) {
        if (prefix == null || !prefix.startsWith("/")) {
          throw new InvalidBackendRecordException("pathPrefixes",
              "pathPrefixes entry \"" + prefix + "\" does not start with /");
        }
      }
      return new BackendRecord(this);
    }
  }
}
