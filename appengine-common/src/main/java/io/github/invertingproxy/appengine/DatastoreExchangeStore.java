package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static java.util.Objects.requireNonNull;

import com.googlecode.objectify.Key;
import com.googlecode.objectify.util.Closeable;
import io.github.invertingproxy.appengine.ExchangeEntity.State;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.RequestTooLargeException;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Exchanges in Datastore with Memcache in front (DESIGN.md, "App Engine"). Each serialized message
 * is stored in parts under 1 MB ({@link BodyPartWriter}); Datastore holds the truth, Memcache a
 * copy of the parts and of the state, so that a flushed Memcache costs time, never an exchange.
 *
 * <p>The services run on different instances, so every wait polls: Memcache every few
 * milliseconds, growing to {@link ExchangeSettings#pollMax()}, and Datastore every
 * {@link ExchangeSettings#datastoreFallback()}. The agent's response is stored whole before the
 * client reads it (App Engine buffers responses anyway), capped at 32 MiB like every App Engine
 * message. A response is never cached beyond its own exchange.
 */
public final class DatastoreExchangeStore implements ExchangeStore, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DatastoreExchangeStore.class.getName());
  private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
  private static final int MAX_PENDING_LISTED = 100;

  private final ExchangeSettings settings;
  private final Clock clock;
  private final SharedCache cache = new SharedCache();
  private final SecureRandom random = new SecureRandom();
  private final ScheduledExecutorService scheduler;

  public DatastoreExchangeStore(ExchangeSettings settings, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
    AtomicInteger threads = new AtomicInteger();
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(settings.pollThreads(), r -> {
      Thread t = new Thread(r, "exchange-poll-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    this.scheduler = executor;
    Persistence.register();
  }

  public DatastoreExchangeStore() {
    this(ExchangeSettings.defaults(), Clock.systemUTC());
  }

  public ExchangeSettings settings() {
    return settings;
  }

  @Override
  public String submit(String backendId, ExchangeRequest request) throws IOException {
    requireNonNull(backendId, "backendId");
    requireNonNull(request, "request");
    String id = newId();
    Date now = Date.from(clock.instant());
    try (Closeable context = Persistence.begin()) {
      BodyPartWriter parts = new BodyPartWriter(cache, settings, id, MessageKind.REQUEST, null, now);
      try {
        request.writeTo(parts);
        parts.close();
      } catch (IOException | RuntimeException e) {
        parts.discard();
        if (parts.tooLarge()) {
          throw new RequestTooLargeException(settings.maxMessageBytes());
        }
        throw e;
      }
      ExchangeEntity e = new ExchangeEntity();
      e.id = id;
      e.backendId = backendId;
      e.state = State.NEW;
      e.created = now;
      e.user = request.user();
      e.startTime = RequestStartTime.format(request.startTime());
      e.method = request.method();
      e.requestParts = parts.parts();
      e.requestLength = parts.length();
      ofy().save().entity(e).now();
    }
    cache.put(CacheKeys.exchange(id), ExchangeMarker.WAITING, settings.cacheLifetime());
    announce(backendId, id);
    return id;
  }

  @Override
  public CompletableFuture<List<String>> awaitPending(String backendId, Duration maxWait) {
    requireNonNull(backendId, "backendId");
    requireNonNull(maxWait, "maxWait");
    long deadline = System.nanoTime() + maxWait.toNanos();
    // Read the counter before the query: whatever is announced after it shows up as a change.
    Object count = cache.get(CacheKeys.pendingCount(backendId));
    List<String> waiting = pendingInDatastore(backendId);
    if (!waiting.isEmpty() || maxWait.isNegative() || maxWait.isZero()) {
      return CompletableFuture.completedFuture(waiting);
    }
    PendingWait wait = new PendingWait(cache, scheduler, settings, backendId,
        count instanceof Long l ? l : null, () -> pendingInDatastore(backendId), deadline);
    wait.start();
    return wait.future;
  }

  @Override
  public Optional<ExchangeRequest> take(String backendId, String requestId) {
    requireNonNull(backendId, "backendId");
    requireNonNull(requestId, "requestId");
    if (!ID.matcher(requestId).matches()) {
      return Optional.empty();
    }
    // A transaction, so that two agents (or a retried call) never both replay one request.
    ExchangeEntity taken = Persistence.run(() -> ofy().transact(() -> {
      ExchangeEntity e = ofy().load().key(ExchangeEntity.key(requestId)).now();
      if (e == null || !backendId.equals(e.backendId) || e.state != State.NEW) {
        return null;
      }
      e.state = State.TAKEN;
      ofy().save().entity(e).now();
      return e;
    }));
    return Optional.ofNullable(taken).map(StoredRequest::new);
  }

  @Override
  public ResponseOutcome respond(String backendId, String requestId, InputStream response) throws IOException {
    requireNonNull(backendId, "backendId");
    requireNonNull(requestId, "requestId");
    requireNonNull(response, "response");
    if (!ID.matcher(requestId).matches()) {
      return ResponseOutcome.NO_WAITING_CLIENT;
    }
    try (Closeable context = Persistence.begin()) {
      ExchangeEntity e = ofy().load().key(ExchangeEntity.key(requestId)).now();
      if (e == null || !backendId.equals(e.backendId) || e.state == State.RESPONDED || e.state == State.FINISHED) {
        return ResponseOutcome.NO_WAITING_CLIENT;
      }
      // Tells the waiting client that its response has begun, so that it waits for the upload.
      cache.put(CacheKeys.exchange(requestId), ExchangeMarker.BEGUN, settings.cacheLifetime());
      Date now = Date.from(clock.instant());
      // Parts of this call's own: a retry of the call (on another instance, while this one still
      // reads) writes others, so that neither can overwrite or discard what the other stored.
      String upload = newId().substring(0, 16);
      return new ResponseUpload(cache, settings, e, upload, now).store(response);
    }
  }

  @Override
  public Optional<AgentResponse> awaitResponse(String requestId, Duration maxWait) throws InterruptedException {
    requireNonNull(requestId, "requestId");
    requireNonNull(maxWait, "maxWait");
    if (!ID.matcher(requestId).matches()) {
      return Optional.empty();
    }
    String markerKey = CacheKeys.exchange(requestId);
    long deadline = System.nanoTime() + maxWait.toNanos();
    boolean begun = false;
    long fallback = settings.datastoreFallback().toNanos();
    long lastDatastoreCheck = System.nanoTime();
    Backoff backoff = new Backoff(settings.pollInitial(), settings.pollMax());
    while (true) {
      Object marker = cache.get(markerKey);
      ExchangeMarker.Stored stored = ExchangeMarker.stored(marker);
      if (stored != null) {
        return Optional.of(new StoredResponse(requestId, stored.parts(), stored.upload()));
      }
      if (ExchangeMarker.FINISHED.equals(marker)) {
        return Optional.empty();
      }
      long now = System.nanoTime();
      if (!begun && ExchangeMarker.BEGUN.equals(marker)) {
        begun = true;
        deadline = Math.max(deadline, now + settings.uploadTimeout().toNanos());
      }
      if (marker == null || now - lastDatastoreCheck >= fallback) {
        lastDatastoreCheck = now;
        ExchangeEntity e = Persistence.run(() -> ofy().load().key(ExchangeEntity.key(requestId)).now());
        if (e == null || e.state == State.FINISHED) {
          return Optional.empty();
        }
        if (e.state == State.RESPONDED) {
          return Optional.of(new StoredResponse(requestId, e.responseParts, e.responseUpload));
        }
        if (marker == null) {
          // Put the marker back, unless the responder wrote a newer one meanwhile.
          cache.add(markerKey, ExchangeMarker.WAITING, settings.cacheLifetime());
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Optional.empty();
      }
      long pause = Math.min(backoff.nextNanos(), left);
      Thread.sleep(pause / 1_000_000, (int) (pause % 1_000_000));
    }
  }

  @Override
  public void finish(String requestId) {
    requireNonNull(requestId, "requestId");
    if (!ID.matcher(requestId).matches()) {
      return;
    }
    // The rows go now, not with the next cleanup: the pending query reads every exchange row on
    // the Datastore stub (and the cleanup must read them all too), so finished rows left for later
    // made each request slower than the last. A response still being uploaded finds no row and is
    // refused; parts it stored meanwhile go with the cleanup's sweep of old orphan parts.
    ExchangeEntity done = Persistence.run(() -> ofy().transact(() -> {
      ExchangeEntity e = ofy().load().key(ExchangeEntity.key(requestId)).now();
      if (e == null) {
        return null;
      }
      List<Key<?>> rows = new ArrayList<>();
      rows.add(ExchangeEntity.key(requestId));
      for (int i = 0; i < e.requestParts; i++) {
        rows.add(BodyPartEntity.key(requestId, MessageKind.REQUEST, null, i));
      }
      for (int i = 0; i < e.responseParts; i++) {
        rows.add(BodyPartEntity.key(requestId, MessageKind.RESPONSE, e.responseUpload, i));
      }
      ofy().delete().keys(rows).now();
      return e;
    }));
    cache.put(CacheKeys.exchange(requestId), ExchangeMarker.FINISHED, settings.cacheLifetime());
    if (done != null) {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < done.requestParts; i++) {
        keys.add(CacheKeys.part(requestId, MessageKind.REQUEST, null, i));
      }
      for (int i = 0; i < done.responseParts; i++) {
        keys.add(CacheKeys.part(requestId, MessageKind.RESPONSE, done.responseUpload, i));
      }
      cache.deleteAll(keys);
    }
  }

  /** Stops the long polls' scheduler; waits in progress end with no ids. */
  @Override
  public void close() {
    scheduler.shutdownNow();
  }

  private String newId() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /** Lets waiting long polls see the new request without asking Datastore. */
  private void announce(String backendId, String id) {
    Long sequence = cache.increment(CacheKeys.pendingCount(backendId), 1);
    if (sequence != null) {
      cache.put(CacheKeys.pending(backendId, sequence), id, settings.cacheLifetime());
    }
  }

  private List<String> pendingInDatastore(String backendId) {
    return Persistence.run(() -> {
      List<String> ids = new ArrayList<>();
      // Needs the composite index (backendId, state, created) declared in index.yaml.
      for (Key<ExchangeEntity> k : ofy().load().type(ExchangeEntity.class)
          .filter("backendId", backendId).filter("state", State.NEW.name())
          .order("created").limit(MAX_PENDING_LISTED).keys()) {
        ids.add(k.getName());
      }
      return ids;
    });
  }

  /** The client's request as stored, for the agent. */
  private final class StoredRequest implements ExchangeRequest {
    private final ExchangeEntity exchange;

    StoredRequest(ExchangeEntity exchange) {
      this.exchange = exchange;
    }

    @Override
    public String user() {
      return exchange.user == null ? "" : exchange.user;
    }

    @Override
    public Instant startTime() {
      return RequestStartTime.parse(exchange.startTime);
    }

    @Override
    public String method() {
      return exchange.method;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      try (InputStream in = new BodyPartReader(cache, exchange.id, MessageKind.REQUEST, null, exchange.requestParts)) {
        in.transferTo(out);
      }
    }
  }

  /** The agent's response as stored, for the client. */
  private final class StoredResponse implements AgentResponse {
    private final String id;
    private final InputStream stream;

    StoredResponse(String id, int parts, String upload) {
      this.id = id;
      this.stream = new BodyPartReader(cache, id, MessageKind.RESPONSE, upload, parts);
    }

    @Override
    public InputStream stream() {
      return stream;
    }

    @Override
    public void finished(ResponseOutcome outcome) {
      // The agent's call was answered when the response was stored; this only informs the log.
      LOG.log(Level.FINE, "exchange {0} relayed: {1}", new Object[] {id, outcome});
    }
  }
}
