package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.googlecode.objectify.Key;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.protocol.BackendRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;

public class ExchangeCleanupTest {
  @Rule public final LocalAppEngine appEngine = new LocalAppEngine();

  private final TestClock clock = new TestClock();
  private final DatastoreExchangeStore store = new DatastoreExchangeStore(ExchangeSettings.defaults(), clock);
  private final DatastoreBackendRegistry registry = new DatastoreBackendRegistry(RegistrySettings.defaults(), clock);
  private final ExchangeCleanup cleanup = new ExchangeCleanup(CleanupSettings.defaults(), registry, clock);

  @After
  public void closeStore() {
    store.close();
  }

  private static int count(Class<?> kind) {
    return Persistence.run(() -> ofy().load().type(kind).count());
  }

  private static BackendRecord record(String id) {
    return BackendRecord.builder().id(id).endUser("alice@example.com").backendUser("agent@example.com")
        .pathPrefixes("/").build();
  }

  @Test
  public void exchangesOlderThanTheMaxAgeGoWithTheirParts() throws Exception {
    String id = store.submit("b", BytesRequest.post("/", new byte[2 * 1024 * 1024]));
    store.take("b", id);
    store.respond("b", id, new ByteArrayInputStream("HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1)));
    clock.advance(Duration.ofMinutes(2).plusSeconds(1));
    ExchangeCleanup.Report report = cleanup.run();
    assertEquals(1, report.exchanges());
    assertEquals(4, report.parts()); // three request parts and one response part
    assertEquals(0, count(ExchangeEntity.class));
    assertEquals(0, count(BodyPartEntity.class));
  }

  @Test
  public void liveExchangesStayUsable() throws Exception {
    BytesRequest sent = BytesRequest.post("/", "payload".getBytes(ISO_8859_1));
    String waiting = store.submit("b", sent);
    String taken = store.submit("b", BytesRequest.get("/2"));
    store.take("b", taken);
    clock.advance(Duration.ofMinutes(1).plusSeconds(59));
    ExchangeCleanup.Report report = cleanup.run();
    assertEquals(0, report.exchanges());
    assertEquals(0, report.parts());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    store.take("b", waiting).orElseThrow().writeTo(out);
    assertArrayEquals(sent.wire(), out.toByteArray());
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", taken,
        new ByteArrayInputStream("HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1))));
    assertTrue(store.awaitResponse(taken, Duration.ofMillis(100)).isPresent());
  }

  @Test
  public void finishedExchangesLeaveNoRowsForTheCleanup() throws Exception {
    String id = store.submit("b", BytesRequest.post("/", new byte[100]));
    store.take("b", id);
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id,
        new ByteArrayInputStream("HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1))));
    assertEquals(1, count(ExchangeEntity.class));
    assertEquals(2, count(BodyPartEntity.class));
    store.finish(id);
    assertEquals(0, count(ExchangeEntity.class));
    assertEquals(0, count(BodyPartEntity.class));
    ExchangeCleanup.Report report = cleanup.run();
    assertEquals(0, report.exchanges());
    assertEquals(0, report.parts());
  }

  @Test
  public void partsOfARequestThatWasNeverStoredGoOnceOld() {
    Persistence.run(() -> ofy().save().entity(new BodyPartEntity("f".repeat(64), MessageKind.REQUEST, null, 0,
        new byte[10], Date.from(clock.instant()))).now());
    assertEquals(0, cleanup.run().parts());
    clock.advance(Duration.ofMinutes(3));
    assertEquals(1, cleanup.run().parts());
    assertEquals(0, count(BodyPartEntity.class));
  }

  @Test
  public void livenessRowsOfDeletedBackendsGoAndOthersStay() {
    registry.add(record("kept"));
    registry.add(record("gone"));
    for (String id : List.of("kept", "gone")) {
      registry.markSeen(id);
      registry.markUsed(id);
    }
    // Deleted behind the registry's back, as a crash between its two deletes would leave it.
    Persistence.run(() -> ofy().delete().key(Key.create(BackendEntity.class, "gone")).now());
    assertEquals(2, cleanup.run().livenessRows());
    assertEquals(List.of("kept"), Persistence.run(() ->
        ofy().load().type(LivenessEntity.class).list().stream().map(e -> e.backendId).toList()));
    assertEquals(1, count(LastUsedEntity.class));
  }

  @Test
  public void backendRecordsStayWithoutAnExpiryHoweverLongTheirAgentIsAway() {
    registry.add(record("idle"));
    clock.advance(Duration.ofDays(30));
    assertEquals(0, cleanup.run().backends());
    assertTrue(registry.get("idle").isPresent());
  }

  @Test
  public void backendRecordsPastAConfiguredExpiryGoWhileLiveOnesStay() {
    ExchangeCleanup expiring = new ExchangeCleanup(
        CleanupSettings.of(Duration.ofMinutes(2), Optional.of(Duration.ofHours(1))), registry, clock);
    registry.add(record("away"));
    registry.add(record("polling"));
    registry.markSeen("away");
    clock.advance(Duration.ofMinutes(61));
    registry.markSeen("polling");
    ExchangeCleanup.Report report = expiring.run();
    assertEquals(1, report.backends());
    assertTrue(registry.get("away").isEmpty());
    assertTrue(registry.get("polling").isPresent());
  }
}
