package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.BackendRegistry;
import io.github.invertingproxy.core.spi.DuplicateBackendException;
import io.github.invertingproxy.core.spi.Route;
import io.github.invertingproxy.protocol.BackendRecord;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Backend records in memory, optionally saved to a {@link BackendRecordFile} on every change (with
 * their last-used times), so that a restart loses none.
 */
public final class InMemoryBackendRegistry implements BackendRegistry {
  private final Map<String, BackendRecord> records = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastSeen = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastUsed = new ConcurrentHashMap<>();
  private final Duration liveWindow;
  private final Clock clock;
  private final BackendRecordFile file;

  private InMemoryBackendRegistry(Duration liveWindow, Clock clock, BackendRecordFile file) {
    this.liveWindow = requireNonNull(liveWindow, "liveWindow");
    this.clock = requireNonNull(clock, "clock");
    this.file = file;
  }

  /** A registry that forgets everything when the process ends. */
  public static InMemoryBackendRegistry transientRegistry(Duration liveWindow, Clock clock) {
    return new InMemoryBackendRegistry(liveWindow, clock, null);
  }

  /** A registry that loads its records from {@code file} and saves every change back to it. */
  public static InMemoryBackendRegistry persistent(Duration liveWindow, Clock clock, BackendRecordFile file)
      throws IOException {
    InMemoryBackendRegistry registry = new InMemoryBackendRegistry(liveWindow, clock, requireNonNull(file, "file"));
    for (BackendRecord r : file.load()) {
      registry.records.put(r.id(), r.withLastUsed(null));
      r.lastUsed().ifPresent(t -> registry.lastUsed.put(r.id(), t));
    }
    return registry;
  }

  @Override
  public synchronized void add(BackendRecord record) {
    requireNonNull(record, "record");
    if (records.putIfAbsent(record.id(), record.withLastUsed(null)) != null) {
      throw new DuplicateBackendException(record.id());
    }
    save();
  }

  @Override
  public synchronized boolean update(BackendRecord record) {
    requireNonNull(record, "record");
    if (records.replace(record.id(), record.withLastUsed(null)) == null) {
      return false;
    }
    save();
    return true;
  }

  @Override
  public Optional<BackendRecord> get(String id) {
    BackendRecord r = records.get(id);
    return r == null ? Optional.empty() : Optional.of(r.withLastUsed(lastUsed.get(id)));
  }

  /** Asked before every request an agent takes, so it reads the stored record without copying it. */
  @Override
  public boolean agentMayServe(AgentAccount account, String backendId) {
    BackendRecord r = records.get(backendId);
    return r != null && account.mayServe(r);
  }

  @Override
  public List<BackendRecord> list() {
    List<BackendRecord> list = new ArrayList<>(records.size());
    for (BackendRecord r : records.values()) {
      list.add(r.withLastUsed(lastUsed.get(r.id())));
    }
    list.sort(Comparator.comparing(BackendRecord::id));
    return list;
  }

  @Override
  public synchronized boolean delete(String id) {
    boolean removed = records.remove(id) != null;
    lastSeen.remove(id);
    lastUsed.remove(id);
    if (removed) {
      save();
    }
    return removed;
  }

  @Override
  public Route route(String userEmail, String path) {
    Instant oldest = clock.instant().minus(liveWindow);
    return Route.choose(records.values(), userEmail, path, r -> {
      Instant seen = lastSeen.get(r.id());
      return seen != null && seen.isAfter(oldest);
    });
  }

  @Override
  public void markSeen(String backendId) {
    if (records.containsKey(backendId)) {
      lastSeen.put(backendId, clock.instant());
    }
  }

  @Override
  public void markUsed(String backendId) {
    if (records.containsKey(backendId)) {
      lastUsed.put(backendId, clock.instant());
    }
  }

  /** Whether the backend's agent polled within the live window, as {@link #route} decides. */
  public boolean live(String backendId) {
    Instant seen = lastSeen.get(backendId);
    return seen != null && seen.isAfter(clock.instant().minus(liveWindow));
  }

  /** When the backend's agent last polled, if it has since this process started. */
  public Optional<Instant> lastSeen(String backendId) {
    return Optional.ofNullable(lastSeen.get(backendId));
  }

  /** Whether the backend's agent polled within the live window, as routing counts it. */
  public boolean isLive(String backendId) {
    Instant seen = lastSeen.get(backendId);
    return seen != null && seen.isAfter(clock.instant().minus(liveWindow));
  }

  /** Saves the records with their last-used times; called on change and at shutdown. */
  public synchronized void save() {
    if (file != null) {
      file.save(list());
    }
  }
}
