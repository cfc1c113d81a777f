package io.github.invertingproxy.appengine;

import com.google.apphosting.api.ApiProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One agent's long poll. App Engine has no notification between instances, so it polls: the
 * backend's announcement counter in Memcache every few milliseconds (a cheap read that changes on
 * every submit), and Datastore's pending query at {@link ExchangeSettings#datastoreFallback()} in
 * case Memcache lost an announcement.
 *
 * <p>Checks run on a shared scheduler, each under the App Engine environment of the request that
 * started the wait (API calls need one, and that request is still open while it waits).
 */
final class PendingWait implements Runnable {
  private static final Logger LOG = Logger.getLogger(PendingWait.class.getName());
  private static final int MAX_IDS = 100;

  final CompletableFuture<List<String>> future = new CompletableFuture<>();
  private final SharedCache cache;
  private final ScheduledExecutorService scheduler;
  private final String backendId;
  private final ApiProxy.Environment environment;
  private final Supplier<List<String>> datastoreQuery;
  private final long deadlineNanos;
  private final long fallbackNanos;
  private final Backoff backoff;
  private Long announced;
  private long lastDatastoreCheck;
  private long missingSince;

  PendingWait(SharedCache cache, ScheduledExecutorService scheduler, ExchangeSettings settings, String backendId,
      Long announced, Supplier<List<String>> datastoreQuery, long deadlineNanos) {
    this.cache = cache;
    this.scheduler = scheduler;
    this.backendId = backendId;
    this.environment = ApiProxy.getCurrentEnvironment();
    this.announced = announced;
    this.datastoreQuery = datastoreQuery;
    this.deadlineNanos = deadlineNanos;
    this.fallbackNanos = settings.datastoreFallback().toNanos();
    this.backoff = new Backoff(settings.pollInitial(), settings.pollMax());
    this.lastDatastoreCheck = System.nanoTime();
  }

  void start() {
    schedule();
  }

  @Override
  public void run() {
    if (future.isDone()) {
      return; // cancelled by the caller, e.g. the agent hung up
    }
    ApiProxy.Environment previous = ApiProxy.getCurrentEnvironment();
    ApiProxy.setEnvironmentForCurrentThread(environment);
    try {
      List<String> ids = check();
      if (!ids.isEmpty()) {
        future.complete(ids);
      } else if (System.nanoTime() - deadlineNanos >= 0) {
        future.complete(List.of());
      } else {
        schedule();
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "long poll for backend " + backendId + " failed", e);
      future.completeExceptionally(e);
    } finally {
      if (previous == null) {
        ApiProxy.clearEnvironmentForCurrentThread();
      } else {
        ApiProxy.setEnvironmentForCurrentThread(previous);
      }
    }
  }

  private void schedule() {
    long delay = Math.min(backoff.nextNanos(), Math.max(0, deadlineNanos - System.nanoTime()));
    try {
      scheduler.schedule(this, delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      future.complete(List.of()); // the store is shutting down
    }
  }

  private List<String> check() {
    long now = System.nanoTime();
    Object count = cache.get(CacheKeys.pendingCount(backendId));
    if (count instanceof Long current) {
      if (announced == null || current < announced) {
        // The counter appeared or restarted (evicted): what it announced before is unknown.
        announced = current;
        return askDatastore(now);
      }
      if (current > announced) {
        List<String> ids = announcedSince(current, now);
        if (!ids.isEmpty()) {
          return ids;
        }
      }
    }
    if (now - lastDatastoreCheck >= fallbackNanos) {
      return askDatastore(now);
    }
    return List.of();
  }

  /** The ids announced after {@link #announced} up to {@code current}, oldest first. */
  private List<String> announcedSince(long current, long now) {
    long from = Math.max(announced + 1, current - MAX_IDS + 1);
    List<String> keys = new ArrayList<>();
    for (long s = from; s <= current; s++) {
      keys.add(CacheKeys.pending(backendId, s));
    }
    java.util.Map<String, Object> found = cache.getAll(keys);
    List<String> ids = new ArrayList<>();
    long firstMissing = -1;
    for (long s = from; s <= current; s++) {
      if (found.get(CacheKeys.pending(backendId, s)) instanceof String id) {
        ids.add(id);
      } else if (firstMissing < 0) {
        firstMissing = s;
      }
    }
    if (firstMissing < 0 || !ids.isEmpty()) {
      announced = current;
      missingSince = 0;
    } else if (missingSince == 0) {
      // Counted but not yet written by the submitter (two Memcache calls); look again next tick.
      missingSince = now;
    } else if (now - missingSince >= fallbackNanos) {
      announced = current; // lost; the Datastore fallback finds it
      missingSince = 0;
    }
    return ids;
  }

  private List<String> askDatastore(long now) {
    lastDatastoreCheck = now;
    return datastoreQuery.get();
  }
}
