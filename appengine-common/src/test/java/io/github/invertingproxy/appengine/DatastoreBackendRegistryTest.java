package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.appengine.api.memcache.MemcacheServiceFactory;
import com.googlecode.objectify.Key;
import io.github.invertingproxy.core.spi.AgentAccount;
import io.github.invertingproxy.core.spi.DuplicateBackendException;
import io.github.invertingproxy.core.spi.Route;
import io.github.invertingproxy.protocol.BackendRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;

public class DatastoreBackendRegistryTest {
  @Rule public final LocalAppEngine appEngine = new LocalAppEngine();

  private final TestClock clock = new TestClock();
  private final DatastoreBackendRegistry registry = new DatastoreBackendRegistry(RegistrySettings.defaults(), clock);

  private static BackendRecord record(String id, String endUser, String... prefixes) {
    return BackendRecord.builder().id(id).endUser(endUser).backendUser("agent@example.com")
        .pathPrefixes(prefixes).build();
  }

  private static void flushMemcache() {
    MemcacheServiceFactory.getMemcacheService(SharedCache.NAMESPACE).clearAll();
  }

  @Test
  public void anAddedRecordReadsBackEqual() {
    BackendRecord r = record("app", "alice@example.com", "/", "/api/");
    registry.add(r);
    assertEquals(r, registry.get("app").orElseThrow());
  }

  @Test
  public void addingASecondRecordWithTheSameIdIsRefused() {
    registry.add(record("app", "alice@example.com", "/"));
    assertThrows(DuplicateBackendException.class, () -> registry.add(record("app", "bob@example.com", "/")));
    assertEquals("alice@example.com", registry.get("app").orElseThrow().endUser());
  }

  @Test
  public void updateReplacesOnlyARecordThatExists() {
    assertFalse(registry.update(record("app", "alice@example.com", "/")));
    registry.add(record("app", "alice@example.com", "/"));
    assertTrue(registry.update(record("app", "bob@example.com", "/b/")));
    assertEquals(record("app", "bob@example.com", "/b/"), registry.get("app").orElseThrow());
  }

  @Test
  public void listIsOrderedByIdAndCarriesLastUsed() {
    registry.add(record("b", "alice@example.com", "/"));
    registry.add(record("a", "alice@example.com", "/"));
    registry.add(record("c", "alice@example.com", "/"));
    registry.markUsed("c");
    List<BackendRecord> all = registry.list();
    assertEquals(List.of("a", "b", "c"), all.stream().map(BackendRecord::id).toList());
    assertEquals(clock.instant(), all.get(2).lastUsed().orElseThrow());
    assertTrue(all.get(0).lastUsed().isEmpty());
  }

  @Test
  public void deleteRemovesTheRecordAndSaysWhetherThereWasOne() {
    registry.add(record("app", "alice@example.com", "/"));
    assertTrue(registry.delete("app"));
    assertTrue(registry.get("app").isEmpty());
    assertFalse(registry.delete("app"));
  }

  @Test
  public void routeChoosesTheUsersLiveRecordWithTheLongestPrefix() {
    registry.add(record("root", "alice@example.com", "/"));
    registry.add(record("api", "alice@example.com", "/api/"));
    registry.markSeen("root");
    registry.markSeen("api");
    Route route = registry.route("alice@example.com", "/api/v1");
    assertEquals(Route.Kind.LIVE, route.kind());
    assertEquals("api", route.backend().orElseThrow().id());
  }

  @Test
  public void routeComparesEmailsWithoutRegardToCase() {
    registry.add(record("app", "Alice@Example.com", "/"));
    registry.markSeen("app");
    assertEquals("app", registry.route("alice@example.COM", "/x").backend().orElseThrow().id());
  }

  @Test
  public void routeFallsBackToAllUsersRecordsWhenTheUserHasNone() {
    registry.add(record("shared", BackendRecord.ALL_USERS, "/"));
    registry.add(record("bobs", "bob@example.com", "/"));
    registry.markSeen("shared");
    registry.markSeen("bobs");
    assertEquals("shared", registry.route("alice@example.com", "/").backend().orElseThrow().id());
  }

  @Test
  public void theUsersLongerDeadPrefixIsNotLiveEvenWhenAShorterOneIsLive() {
    registry.add(record("nb1", "alice@example.com", "/nb1/"));
    registry.add(record("root", "alice@example.com", "/"));
    registry.markSeen("root");
    Route route = registry.route("alice@example.com", "/nb1/tree");
    assertEquals(Route.Kind.NOT_LIVE, route.kind());
    assertEquals("nb1", route.backend().orElseThrow().id());
    assertEquals("LIVE(root)", registry.route("alice@example.com", "/other").toString());
  }

  @Test
  public void aLiveAllUsersRecordNeverStandsInForTheUsersDeadOne() {
    registry.add(record("nb1", "alice@example.com", "/nb1/"));
    registry.add(record("shared", BackendRecord.ALL_USERS, "/"));
    registry.markSeen("shared");
    assertEquals("NOT_LIVE(nb1)", registry.route("alice@example.com", "/nb1/tree").toString());
  }

  @Test
  public void allUsersRecordsServeWhereNoneOfTheUsersOwnMatches() {
    registry.add(record("nb1", "alice@example.com", "/nb1/"));
    registry.add(record("shared", BackendRecord.ALL_USERS, "/"));
    registry.markSeen("nb1");
    registry.markSeen("shared");
    assertEquals("LIVE(shared)", registry.route("alice@example.com", "/other").toString());
    assertEquals("LIVE(nb1)", registry.route("alice@example.com", "/nb1/tree").toString());
  }

  @Test
  public void anotherUsersRecordIsNoMatch() {
    registry.add(record("bobs", "bob@example.com", "/"));
    registry.markSeen("bobs");
    assertEquals(Route.Kind.NO_MATCH, registry.route("alice@example.com", "/").kind());
  }

  @Test
  public void aRecordWhoseAgentNeverPolledIsNotLive() {
    registry.add(record("app", "alice@example.com", "/"));
    assertEquals(Route.Kind.NOT_LIVE, registry.route("alice@example.com", "/").kind());
  }

  @Test
  public void anAgentLastSeenMoreThanFiveMinutesAgoIsNotLive() {
    registry.add(record("app", "alice@example.com", "/"));
    registry.markSeen("app");
    clock.advance(Duration.ofMinutes(4).plusSeconds(59));
    assertEquals(Route.Kind.LIVE, registry.route("alice@example.com", "/").kind());
    clock.advance(Duration.ofSeconds(2));
    assertEquals(Route.Kind.NOT_LIVE, registry.route("alice@example.com", "/").kind());
  }

  @Test
  public void livenessSurvivesAMemcacheFlush() {
    registry.add(record("app", "alice@example.com", "/"));
    registry.markSeen("app");
    flushMemcache();
    assertEquals(Route.Kind.LIVE, registry.route("alice@example.com", "/").kind());
  }

  @Test
  public void pollsWithinTheWriteIntervalDoNotRewriteDatastore() {
    registry.add(record("app", "alice@example.com", "/"));
    Instant first = clock.instant();
    registry.markSeen("app");
    clock.advance(Duration.ofSeconds(20));
    registry.markSeen("app");
    assertEquals(first, storedLastSeen("app"));
    clock.advance(Duration.ofSeconds(11));
    registry.markSeen("app");
    assertEquals(clock.instant(), storedLastSeen("app"));
  }

  @Test
  public void livenessAfterAFlushIsAtMostOneWriteIntervalOld() {
    registry.add(record("app", "alice@example.com", "/"));
    registry.markSeen("app");
    // The agent keeps polling every 29 s for 4.5 minutes; only some polls reach Datastore.
    for (int i = 0; i < 9; i++) {
      clock.advance(Duration.ofSeconds(29));
      registry.markSeen("app");
    }
    flushMemcache();
    clock.advance(Duration.ofMinutes(4).plusSeconds(25));
    assertEquals(Route.Kind.LIVE, registry.route("alice@example.com", "/").kind());
  }

  @Test
  public void lastUsedSurvivesAMemcacheFlush() {
    registry.add(record("app", "alice@example.com", "/"));
    registry.markUsed("app");
    Instant used = clock.instant();
    flushMemcache();
    assertEquals(used, registry.get("app").orElseThrow().lastUsed().orElseThrow());
  }

  @Test
  public void onlyTheRecordsBackendUserMayServeIt() {
    registry.add(record("app", "alice@example.com", "/"));
    assertTrue(registry.agentMayServe(AgentAccount.of("agent@example.com"), "app"));
    assertFalse(registry.agentMayServe(AgentAccount.of("mallory@example.com"), "app"));
    assertFalse(registry.agentMayServe(AgentAccount.of("agent@example.com"), "missing"));
  }

  @Test
  public void deletingARecordRemovesItsLivenessRows() {
    registry.add(record("app", "alice@example.com", "/"));
    registry.markSeen("app");
    registry.markUsed("app");
    registry.delete("app");
    assertNotNull(Persistence.run(() -> ofy().load().type(LivenessEntity.class).list()));
    assertEquals(0, (int) Persistence.run(() -> ofy().load().type(LivenessEntity.class).count()));
    assertEquals(0, (int) Persistence.run(() -> ofy().load().type(LastUsedEntity.class).count()));
  }

  private static Instant storedLastSeen(String id) {
    return Persistence.run(() -> ofy().load().key(Key.create(LivenessEntity.class, id)).now()).lastSeen.toInstant();
  }
}
