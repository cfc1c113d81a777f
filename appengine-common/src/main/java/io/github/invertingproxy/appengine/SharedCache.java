package io.github.invertingproxy.appengine;

import com.google.appengine.api.memcache.ErrorHandlers;
import com.google.appengine.api.memcache.Expiration;
import com.google.appengine.api.memcache.MemcacheService;
import com.google.appengine.api.memcache.MemcacheServiceFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.logging.Level;

/**
 * Memcache as this proxy uses it: a best-effort cache in front of Datastore. Every failure reads as
 * a miss (logged), because Datastore holds the truth and every reader falls back to it.
 */
final class SharedCache {
  static final String NAMESPACE = "inverting-proxy";

  private final MemcacheService memcache;

  SharedCache() {
    memcache = MemcacheServiceFactory.getMemcacheService(NAMESPACE);
    memcache.setErrorHandler(ErrorHandlers.getLogAndContinue(Level.WARNING));
  }

  Object get(String key) {
    return memcache.get(key);
  }

  Map<String, Object> getAll(Collection<String> keys) {
    return memcache.getAll(keys);
  }

  void put(String key, Object value, Duration expiration) {
    try {
      memcache.put(key, value, expiry(expiration));
    } catch (IllegalArgumentException e) {
      // A value the cache refuses (too large) is simply not cached.
      java.util.logging.Logger.getLogger(SharedCache.class.getName())
          .log(Level.WARNING, "memcache refused " + key + ": " + e.getMessage());
    }
  }

  /** Stores the value only when the key is absent; false when it was present or the cache failed. */
  boolean add(String key, Object value, Duration expiration) {
    return memcache.put(key, value, expiry(expiration), MemcacheService.SetPolicy.ADD_ONLY_IF_NOT_PRESENT);
  }

  /** Adds {@code delta}, starting from 0 when the key is absent; null when the cache failed. */
  Long increment(String key, long delta) {
    return memcache.increment(key, delta, 0L);
  }

  void delete(String key) {
    memcache.delete(key);
  }

  void deleteAll(Collection<String> keys) {
    memcache.deleteAll(keys);
  }

  private static Expiration expiry(Duration d) {
    return Expiration.byDeltaMillis((int) Math.min(Integer.MAX_VALUE, d.toMillis()));
  }
}
