package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static java.util.Objects.requireNonNull;

import com.googlecode.objectify.Key;
import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.BackendActivity;
import io.github.invertingproxy.core.spi.BackendRegistry;
import io.github.invertingproxy.core.spi.DuplicateBackendException;
import io.github.invertingproxy.core.spi.Route;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendStatus;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Backend records in Datastore. Liveness and last use are exact in Memcache (updated on every poll
 * and request) and written to Datastore at most once per interval per backend, so that a busy
 * backend costs no Datastore write per request while a Memcache flush only makes them up to one
 * interval older.
 */
public final class DatastoreBackendRegistry implements BackendRegistry, BackendActivity {
  private final SharedCache cache;
  private final RegistrySettings settings;
  private final Clock clock;

  public DatastoreBackendRegistry(RegistrySettings settings, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
    this.cache = new SharedCache();
    Persistence.register();
  }

  public DatastoreBackendRegistry() {
    this(RegistrySettings.defaults(), Clock.systemUTC());
  }

  @Override
  public void add(BackendRecord record) {
    requireNonNull(record, "record");
    boolean added = Persistence.run(() -> ofy().transact(() -> {
      if (ofy().load().key(Key.create(BackendEntity.class, record.id())).now() != null) {
        return false;
      }
      ofy().save().entity(BackendEntity.of(record, Date.from(clock.instant()))).now();
      return true;
    }));
    if (!added) {
      throw new DuplicateBackendException(record.id());
    }
  }

  @Override
  public boolean update(BackendRecord record) {
    requireNonNull(record, "record");
    return Persistence.run(() -> ofy().transact(() -> {
      BackendEntity old = ofy().load().key(Key.create(BackendEntity.class, record.id())).now();
      if (old == null) {
        return false;
      }
      ofy().save().entity(BackendEntity.of(record, old.created)).now();
      return true;
    }));
  }

  @Override
  public Optional<BackendRecord> get(String id) {
    requireNonNull(id, "id");
    return entity(id).map(e -> withLastUsed(List.of(e.toRecord())).get(0));
  }

  /** Reads the record alone: an agent's every call asks this, and needs no last-use time. */
  @Override
  public boolean agentMayServe(AgentAccount account, String backendId) {
    requireNonNull(account, "account");
    requireNonNull(backendId, "backendId");
    return entity(backendId).map(e -> account.mayServe(e.toRecord())).orElse(false);
  }

  private static Optional<BackendEntity> entity(String id) {
    return Optional.ofNullable(Persistence.run(() -> ofy().load().key(Key.create(BackendEntity.class, id)).now()));
  }

  @Override
  public List<BackendRecord> list() {
    return Persistence.run(() -> {
      List<BackendRecord> records = new ArrayList<>();
      // Key order is id order; the built-in key index serves it.
      for (BackendEntity e : ofy().load().type(BackendEntity.class).orderKey(false).list()) {
        records.add(e.toRecord());
      }
      return withLastUsed(records);
    });
  }

  @Override
  public boolean delete(String id) {
    requireNonNull(id, "id");
    boolean existed = Persistence.run(() -> ofy().transact(() -> {
      Key<BackendEntity> key = Key.create(BackendEntity.class, id);
      if (ofy().load().key(key).now() == null) {
        return false;
      }
      ofy().delete().key(key).now();
      return true;
    }));
    if (existed) {
      Persistence.run(() -> ofy().delete().keys(
          Key.create(LivenessEntity.class, id), Key.create(LastUsedEntity.class, id)).now());
      cache.deleteAll(List.of(seenKey(id), seenStoredKey(id), usedKey(id), usedStoredKey(id)));
    }
    return existed;
  }

  @Override
  public Route route(String userEmail, String path) {
    requireNonNull(userEmail, "userEmail");
    requireNonNull(path, "path");
    List<BackendRecord> candidates = Persistence.run(() -> {
      List<String> endUsers = new ArrayList<>();
      if (!userEmail.isEmpty()) {
        endUsers.add(BackendEntity.endUserKey(userEmail));
      }
      endUsers.add(BackendEntity.endUserKey(BackendRecord.ALL_USERS));
      List<BackendRecord> records = new ArrayList<>();
      for (BackendEntity e : ofy().load().type(BackendEntity.class).filter("endUserKey in", endUsers).list()) {
        records.add(e.toRecord());
      }
      return records;
    });
    if (candidates.isEmpty()) {
      return Route.none();
    }
    Map<String, Instant> seen = lastSeen(ids(candidates));
    Instant liveSince = clock.instant().minus(settings.liveWindow());
    return Route.choose(candidates, userEmail, path, r -> {
      Instant t = seen.get(r.id());
      return t != null && t.isAfter(liveSince);
    });
  }

  @Override
  public void markSeen(String backendId) {
    requireNonNull(backendId, "backendId");
    mark(backendId, seenKey(backendId), seenStoredKey(backendId), settings.seenWriteInterval(),
        now -> new LivenessEntity(backendId, now));
  }

  @Override
  public void markUsed(String backendId) {
    requireNonNull(backendId, "backendId");
    mark(backendId, usedKey(backendId), usedStoredKey(backendId), settings.usedWriteInterval(),
        now -> new LastUsedEntity(backendId, now));
  }

  /**
   * Each backend's last poll and live status, from one Memcache batch read (Datastore for what it
   * misses). Agent connections and requests in flight are left out: they would take a Datastore
   * query per backend, and no instance knows another's held polls.
   */
  @Override
  public Map<String, BackendStatus> statusOf(Collection<String> backendIds) {
    Map<String, Instant> seen = lastSeen(backendIds);
    Instant liveSince = clock.instant().minus(settings.liveWindow());
    Map<String, BackendStatus> statuses = new HashMap<>();
    for (String id : backendIds) {
      Instant t = seen.get(id);
      statuses.put(id, BackendStatus.seen(Optional.ofNullable(t), t != null && t.isAfter(liveSince)));
    }
    return statuses;
  }

  /** When each backend's agent last polled, as far as Memcache or else Datastore knows. */
  Map<String, Instant> lastSeen(Collection<String> backendIds) {
    return lastTimes(backendIds, DatastoreBackendRegistry::seenKey, LivenessEntity.class, e -> e.lastSeen);
  }

  private List<BackendRecord> withLastUsed(List<BackendRecord> records) {
    if (records.isEmpty()) {
      return records;
    }
    Map<String, Instant> used = lastTimes(ids(records), DatastoreBackendRegistry::usedKey, LastUsedEntity.class,
        e -> e.lastUsed);
    List<BackendRecord> out = new ArrayList<>(records.size());
    for (BackendRecord r : records) {
      Instant t = used.get(r.id());
      out.add(t == null ? r : r.withLastUsed(t));
    }
    return out;
  }

  private void mark(String backendId, String exactKey, String storedKey, java.time.Duration writeInterval,
      java.util.function.Function<Date, Object> entity) {
    Instant now = clock.instant();
    cache.put(exactKey, now.toEpochMilli(), LONG_LIVED);
    Object stored = cache.get(storedKey);
    // Unknown (Memcache lost it) counts as stale, so a flush costs one extra write, never a lost fact.
    if (stored instanceof Long when && now.toEpochMilli() - when < writeInterval.toMillis()) {
      return;
    }
    Persistence.run(() -> ofy().save().entity(entity.apply(Date.from(now))).now());
    cache.put(storedKey, now.toEpochMilli(), LONG_LIVED);
  }

  private <E> Map<String, Instant> lastTimes(Collection<String> backendIds,
      java.util.function.Function<String, String> cacheKey, Class<E> kind,
      java.util.function.Function<E, Date> time) {
    Map<String, Instant> times = new HashMap<>();
    List<String> keys = new ArrayList<>();
    for (String id : backendIds) {
      keys.add(cacheKey.apply(id));
    }
    Map<String, Object> cached = cache.getAll(keys);
    List<Key<E>> missing = new ArrayList<>();
    for (String id : backendIds) {
      if (cached.get(cacheKey.apply(id)) instanceof Long millis) {
        times.put(id, Instant.ofEpochMilli(millis));
      } else {
        missing.add(Key.create(kind, id));
      }
    }
    if (!missing.isEmpty()) {
      Map<Key<E>, E> stored = Persistence.run(() -> ofy().load().keys(missing));
      for (Map.Entry<Key<E>, E> entry : stored.entrySet()) {
        Date t = time.apply(entry.getValue());
        if (t != null) {
          times.put(entry.getKey().getName(), t.toInstant());
        }
      }
    }
    return times;
  }

  private static List<String> ids(Collection<BackendRecord> records) {
    List<String> ids = new ArrayList<>(records.size());
    for (BackendRecord r : records) {
      ids.add(r.id());
    }
    return ids;
  }

  // Exact times outlive the live window many times over; eviction only falls back to Datastore.
  private static final java.time.Duration LONG_LIVED = java.time.Duration.ofDays(1);

  static String seenKey(String backendId) {
    return "seen:" + backendId;
  }

  static String seenStoredKey(String backendId) {
    return "seen-stored:" + backendId;
  }

  static String usedKey(String backendId) {
    return "used:" + backendId;
  }

  static String usedStoredKey(String backendId) {
    return "used-stored:" + backendId;
  }
}
