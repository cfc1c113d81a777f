package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static java.util.Objects.requireNonNull;

import com.googlecode.objectify.Key;
import io.github.invertingproxy.appengine.ExchangeEntity.State;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The cron job behind {@code /cron/delete}: removes exchanges older than the configured age (and
 * finished ones), their parts, parts left by requests that were never stored, the liveness and
 * last-use rows of records that no longer exist, and, only when an expiry is configured, backend
 * records whose agent has been away that long. Nothing a waiting client or agent still needs.
 */
public final class ExchangeCleanup {
  private static final Logger LOG = Logger.getLogger(ExchangeCleanup.class.getName());
  private static final int BATCH = 500; // Datastore's limit for one batch delete

  private final CleanupSettings settings;
  private final DatastoreBackendRegistry registry;
  private final Clock clock;
  private final SharedCache cache = new SharedCache();

  public ExchangeCleanup(CleanupSettings settings, DatastoreBackendRegistry registry, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.registry = requireNonNull(registry, "registry");
    this.clock = requireNonNull(clock, "clock");
    Persistence.register();
  }

  /** What one run removed. */
  public record Report(int exchanges, int parts, int livenessRows, int backends) {
    @Override
    public String toString() {
      return "deleted " + exchanges + " exchanges, " + parts + " body parts, " + livenessRows
          + " liveness rows of deleted backends, " + backends + " expired backends";
    }
  }

  public Report run() {
    Instant now = clock.instant();
    Date cutoff = Date.from(now.minus(settings.exchangeMaxAge()));
    int[] exchanges = {0};
    int[] parts = {0};
    Persistence.run(() -> {
      Set<Key<ExchangeEntity>> done = new LinkedHashSet<>();
      done.addAll(ofy().load().type(ExchangeEntity.class).filter("created <", cutoff).keys().list());
      done.addAll(ofy().load().type(ExchangeEntity.class).filter("state", State.FINISHED.name()).keys().list());
      List<Key<?>> doomed = new ArrayList<>();
      List<String> markers = new ArrayList<>();
      for (Key<ExchangeEntity> exchange : done) {
        // A kindless ancestor query: the exchange and every part under it.
        for (Key<Object> k : ofy().load().ancestor(exchange).keys()) {
          doomed.add(k);
          if (k.equals(exchange)) {
            exchanges[0]++;
          } else {
            parts[0]++;
          }
        }
        markers.add(CacheKeys.exchange(exchange.getName()));
      }
      Set<Key<?>> already = new HashSet<>(doomed);
      for (Key<BodyPartEntity> orphan : ofy().load().type(BodyPartEntity.class).filter("created <", cutoff).keys()) {
        if (already.add(orphan)) {
          doomed.add(orphan);
          parts[0]++;
        }
      }
      deleteInBatches(doomed);
      cache.deleteAll(markers);
    });
    int expired = expireBackends(now);
    int liveness = deleteRowsOfMissingBackends();
    Report report = new Report(exchanges[0], parts[0], liveness, expired);
    LOG.info("cleanup: " + report);
    return report;
  }

  private int expireBackends(Instant now) {
    if (settings.backendExpiry().isEmpty()) {
      return 0;
    }
    Instant cutoff = now.minus(settings.backendExpiry().get());
    List<BackendEntity> backends = Persistence.run(() -> ofy().load().type(BackendEntity.class).list());
    List<String> ids = new ArrayList<>();
    for (BackendEntity b : backends) {
      ids.add(b.id);
    }
    Map<String, Instant> seen = registry.lastSeen(ids);
    int deleted = 0;
    for (BackendEntity b : backends) {
      // A record whose agent never came counts from its creation.
      Instant last = seen.getOrDefault(b.id, b.created == null ? Instant.EPOCH : b.created.toInstant());
      if (last.isBefore(cutoff) && registry.delete(b.id)) {
        LOG.info("deleted backend " + b.id + ": its agent was last seen " + last);
        deleted++;
      }
    }
    return deleted;
  }

  private int deleteRowsOfMissingBackends() {
    return Persistence.run(() -> {
      List<Key<LivenessEntity>> seen = ofy().load().type(LivenessEntity.class).keys().list();
      List<Key<LastUsedEntity>> used = ofy().load().type(LastUsedEntity.class).keys().list();
      Set<String> named = new HashSet<>();
      seen.forEach(k -> named.add(k.getName()));
      used.forEach(k -> named.add(k.getName()));
      List<Key<BackendEntity>> backendKeys = new ArrayList<>();
      for (String id : named) {
        backendKeys.add(Key.create(BackendEntity.class, id));
      }
      Set<String> existing = new HashSet<>();
      for (Key<BackendEntity> k : ofy().load().keys(backendKeys).keySet()) {
        existing.add(k.getName());
      }
      List<Key<?>> doomed = new ArrayList<>();
      List<String> cacheKeys = new ArrayList<>();
      for (Key<LivenessEntity> k : seen) {
        if (!existing.contains(k.getName())) {
          doomed.add(k);
          cacheKeys.add(DatastoreBackendRegistry.seenKey(k.getName()));
          cacheKeys.add(DatastoreBackendRegistry.seenStoredKey(k.getName()));
        }
      }
      for (Key<LastUsedEntity> k : used) {
        if (!existing.contains(k.getName())) {
          doomed.add(k);
          cacheKeys.add(DatastoreBackendRegistry.usedKey(k.getName()));
          cacheKeys.add(DatastoreBackendRegistry.usedStoredKey(k.getName()));
        }
      }
      deleteInBatches(doomed);
      cache.deleteAll(cacheKeys);
      return doomed.size();
    });
  }

  private static void deleteInBatches(Collection<Key<?>> keys) {
    List<Key<?>> batch = new ArrayList<>(BATCH);
    for (Key<?> k : keys) {
      batch.add(k);
      if (batch.size() == BATCH) {
        ofy().delete().keys(batch).now();
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      ofy().delete().keys(batch).now();
    }
  }
}
