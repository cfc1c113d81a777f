package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.appengine.api.memcache.MemcacheServiceFactory;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.RequestTooLargeException;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;

public class DatastoreExchangeStoreTest {
  private static final Duration SHORT = Duration.ofMillis(200);

  @Rule public final LocalAppEngine appEngine = new LocalAppEngine();

  private final DatastoreExchangeStore store =
      new DatastoreExchangeStore(ExchangeSettings.builder().datastoreFallback(Duration.ofMillis(100)).build(),
          new TestClock());

  @After
  public void closeStore() {
    store.close();
  }

  private static void flushMemcache() {
    MemcacheServiceFactory.getMemcacheService(SharedCache.NAMESPACE).clearAll();
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] response(String status, byte[] body) {
    byte[] head = ("HTTP/1.1 " + status + "\r\nContent-Type: application/octet-stream\r\nContent-Length: "
        + body.length + "\r\n\r\n").getBytes(ISO_8859_1);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  private static byte[] wire(ExchangeRequest r) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    r.writeTo(out);
    return out.toByteArray();
  }

  private static byte[] readAll(AgentResponse r) throws IOException {
    try (InputStream in = r.stream()) {
      return in.readAllBytes();
    }
  }

  private static IncomingMessage<ResponseHead> parse(AgentResponse r, String method) throws IOException {
    return MessageReader.readResponse(r.stream(), method, MessageLimits.DEFAULT);
  }

  @Test
  public void idsAreSixtyFourHexCharactersAndNeverRepeat() throws Exception {
    String a = store.submit("b", BytesRequest.get("/"));
    String b = store.submit("b", BytesRequest.get("/"));
    assertTrue(a, a.matches("[0-9a-f]{64}"));
    assertNotEquals(a, b);
  }

  @Test
  public void aSubmittedRequestIsPendingForItsBackendOnly() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    assertEquals(List.of(id), store.awaitPending("b", Duration.ZERO).get());
    assertEquals(List.of(), store.awaitPending("other", Duration.ZERO).get());
  }

  @Test
  public void pendingRequestsAreListedOldestFirst() throws Exception {
    TestClock clock = new TestClock();
    try (DatastoreExchangeStore s = new DatastoreExchangeStore(ExchangeSettings.defaults(), clock)) {
      String first = s.submit("b", BytesRequest.get("/1"));
      clock.advance(Duration.ofSeconds(1));
      String second = s.submit("b", BytesRequest.get("/2"));
      assertEquals(List.of(first, second), s.awaitPending("b", Duration.ZERO).get());
    }
  }

  @Test
  public void aLongPollEndsAsSoonAsARequestArrives() throws Exception {
    CompletableFuture<List<String>> pending = store.awaitPending("b", Duration.ofSeconds(10));
    Thread.sleep(50);
    String[] id = new String[1];
    long start = System.nanoTime();
    LocalAppEngine.inBackground(() -> {
      try {
        id[0] = store.submit("b", BytesRequest.get("/"));
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }).join();
    List<String> ids = pending.get(5, TimeUnit.SECONDS);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(List.of(id[0]), ids);
    assertTrue("took " + millis + " ms", millis < 1000);
  }

  @Test
  public void aLongPollWithNothingToDoEndsEmptyAfterItsWait() throws Exception {
    long start = System.nanoTime();
    assertEquals(List.of(), store.awaitPending("b", SHORT).get(5, TimeUnit.SECONDS));
    assertTrue(System.nanoTime() - start >= SHORT.toNanos());
  }

  @Test
  public void aLongPollFindsARequestAnnouncedAfterAMemcacheFlush() throws Exception {
    store.submit("b", BytesRequest.get("/old")); // makes the announcement counter exist
    store.take("b", store.awaitPending("b", Duration.ZERO).get().get(0));
    CompletableFuture<List<String>> pending = store.awaitPending("b", Duration.ofSeconds(10));
    flushMemcache();
    String[] id = new String[1];
    LocalAppEngine.inBackground(() -> {
      try {
        id[0] = store.submit("b", BytesRequest.get("/new"));
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }).join();
    assertEquals(List.of(id[0]), pending.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void aTakenRequestIsNoLongerPending() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id).orElseThrow();
    assertEquals(List.of(), store.awaitPending("b", Duration.ZERO).get());
  }

  @Test
  public void takeGivesTheRequestBytesAndItsMetadataOnce() throws Exception {
    BytesRequest sent = BytesRequest.post("/upload?x=1", "hello".getBytes(ISO_8859_1));
    String id = store.submit("b", sent);
    ExchangeRequest taken = store.take("b", id).orElseThrow();
    assertArrayEquals(sent.wire(), wire(taken));
    assertEquals("alice@example.com", taken.user());
    assertEquals(sent.startTime(), taken.startTime());
    assertEquals("POST", taken.method());
    assertTrue(store.take("b", id).isEmpty());
  }

  @Test
  public void takeRefusesAnotherBackendsRequest() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    assertTrue(store.take("other", id).isEmpty());
    assertTrue(store.take("b", id).isPresent());
  }

  @Test
  public void takeRefusesUnknownAndMalformedIds() throws Exception {
    assertTrue(store.take("b", "0".repeat(64)).isEmpty());
    assertTrue(store.take("b", "../../etc").isEmpty());
  }

  @Test
  public void theClientReceivesTheAgentsResponseExactly() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    byte[] sent = response("201 Created", "made".getBytes(ISO_8859_1));
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, new ByteArrayInputStream(sent)));
    assertArrayEquals(sent, readAll(store.awaitResponse(id, SHORT).orElseThrow()));
  }

  @Test
  public void aClientWaitingBeforeTheResponseGetsItWithinMilliseconds() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    byte[] sent = response("200 OK", "x".getBytes(ISO_8859_1));
    LocalAppEngine.inBackground(() -> {
      try {
        Thread.sleep(100);
        store.respond("b", id, new ByteArrayInputStream(sent));
      } catch (IOException | InterruptedException e) {
        throw new RuntimeException(e);
      }
    });
    long start = System.nanoTime();
    AgentResponse r = store.awaitResponse(id, Duration.ofSeconds(5)).orElseThrow();
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertArrayEquals(sent, readAll(r));
    assertTrue("took " + millis + " ms", millis < 1000);
  }

  @Test
  public void fiveMegabyteBodiesRoundTripThroughParts() throws Exception {
    byte[] body = bytes(5 * 1024 * 1024, 1);
    BytesRequest sent = BytesRequest.post("/big", body);
    String id = store.submit("b", sent);
    assertArrayEquals(sent.wire(), wire(store.take("b", id).orElseThrow()));
    byte[] answer = response("200 OK", bytes(5 * 1024 * 1024, 2));
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, new ByteArrayInputStream(answer)));
    assertArrayEquals(answer, readAll(store.awaitResponse(id, SHORT).orElseThrow()));
    List<BodyPartEntity> parts = Persistence.run(() -> ofy().load().type(BodyPartEntity.class).list());
    assertEquals(12, parts.size()); // 5 MiB plus a head, in 960 KiB parts, twice
    for (BodyPartEntity p : parts) {
      assertTrue(p.name + " has " + p.data.length + " bytes", p.data.length < 1_000_000);
    }
  }

  @Test
  public void storedMessagesSurviveAMemcacheFlush() throws Exception {
    byte[] body = bytes(2 * 1024 * 1024, 3);
    BytesRequest sent = BytesRequest.post("/big", body);
    String id = store.submit("b", sent);
    flushMemcache();
    assertEquals(List.of(id), store.awaitPending("b", Duration.ZERO).get());
    assertArrayEquals(sent.wire(), wire(store.take("b", id).orElseThrow()));
    byte[] answer = response("200 OK", bytes(2 * 1024 * 1024, 4));
    store.respond("b", id, new ByteArrayInputStream(answer));
    flushMemcache();
    assertArrayEquals(answer, readAll(store.awaitResponse(id, SHORT).orElseThrow()));
  }

  @Test
  public void aClientWaitingThroughAMemcacheFlushStillGetsTheResponse() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    byte[] sent = response("200 OK", "x".getBytes(ISO_8859_1));
    LocalAppEngine.inBackground(() -> {
      try {
        Thread.sleep(50);
        store.respond("b", id, new ByteArrayInputStream(sent));
        flushMemcache(); // the marker and the cached part are gone before the client looks again
      } catch (IOException | InterruptedException e) {
        throw new RuntimeException(e);
      }
    });
    assertArrayEquals(sent, readAll(store.awaitResponse(id, Duration.ofSeconds(5)).orElseThrow()));
  }

  @Test
  public void aBodyThatIsNotAnHttpResponseIsMalformedAndTheClientGets502() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    assertEquals(ResponseOutcome.MALFORMED,
        store.respond("b", id, new ByteArrayInputStream("not http at all\r\n\r\n".getBytes(ISO_8859_1))));
    assertEquals(502, parse(store.awaitResponse(id, SHORT).orElseThrow(), "GET").head().status());
  }

  @Test
  public void aResponseThatBreaksOffIsTruncatedAndLeavesTheExchangeOpenForARetry() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    byte[] whole = response("200 OK", bytes(1000, 5));
    byte[] cut = java.util.Arrays.copyOf(whole, 500);
    assertEquals(ResponseOutcome.TRUNCATED, store.respond("b", id, new ByteArrayInputStream(cut)));
    assertTrue(store.awaitResponse(id, Duration.ofMillis(20)).isEmpty());
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, new ByteArrayInputStream(whole)));
    assertArrayEquals(whole, readAll(store.awaitResponse(id, SHORT).orElseThrow()));
  }

  @Test
  public void aSecondResponseForTheSameRequestFindsNoWaitingClient() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    store.respond("b", id, new ByteArrayInputStream(response("200 OK", new byte[0])));
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT,
        store.respond("b", id, new ByteArrayInputStream(response("200 OK", new byte[0]))));
  }

  @Test
  public void aResponseForAnUnknownOrAnotherBackendsRequestFindsNoWaitingClient() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    byte[] ok = response("200 OK", new byte[0]);
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, store.respond("other", id, new ByteArrayInputStream(ok)));
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT,
        store.respond("b", "f".repeat(64), new ByteArrayInputStream(ok)));
  }

  @Test
  public void aResponseAfterTheClientFinishedFindsNoWaitingClient() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    store.finish(id);
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT,
        store.respond("b", id, new ByteArrayInputStream(response("200 OK", new byte[0]))));
    assertTrue(store.awaitResponse(id, SHORT).isEmpty());
  }

  @Test
  public void aRequestLargerThanTheLimitIsRefusedAndLeavesNothingBehind() throws Exception {
    try (DatastoreExchangeStore small = new DatastoreExchangeStore(
        ExchangeSettings.builder().maxMessageBytes(64 * 1024).partSize(16 * 1024).build(), new TestClock())) {
      RequestTooLargeException e = assertThrows(RequestTooLargeException.class,
          () -> small.submit("b", BytesRequest.post("/", new byte[64 * 1024])));
      assertEquals(64 * 1024, e.limit());
      assertEquals(0, (int) Persistence.run(() -> ofy().load().type(BodyPartEntity.class).count()));
      assertEquals(0, (int) Persistence.run(() -> ofy().load().type(ExchangeEntity.class).count()));
    }
  }

  @Test
  public void aRequestOfExactlyTheLimitIsAccepted() throws Exception {
    try (DatastoreExchangeStore small = new DatastoreExchangeStore(
        ExchangeSettings.builder().maxMessageBytes(64 * 1024).partSize(16 * 1024).build(), new TestClock())) {
      int head = BytesRequest.post("/", new byte[0]).wire().length + 4; // "0" becomes a five-digit length
      BytesRequest sent = BytesRequest.post("/", new byte[64 * 1024 - head]);
      assertEquals(64 * 1024, sent.wire().length);
      String id = small.submit("b", sent);
      assertArrayEquals(sent.wire(), wire(small.take("b", id).orElseThrow()));
    }
  }

  @Test
  public void aResponseLargerThanTheLimitGivesTheClientA502() throws Exception {
    try (DatastoreExchangeStore small = new DatastoreExchangeStore(
        ExchangeSettings.builder().maxMessageBytes(64 * 1024).partSize(16 * 1024).build(), new TestClock())) {
      String id = small.submit("b", BytesRequest.get("/"));
      small.take("b", id);
      assertEquals(ResponseOutcome.MALFORMED,
          small.respond("b", id, new ByteArrayInputStream(response("200 OK", new byte[100 * 1024]))));
      IncomingMessage<ResponseHead> answer = parse(small.awaitResponse(id, SHORT).orElseThrow(), "GET");
      assertEquals(502, answer.head().status());
      assertTrue(new String(answer.body().readAllBytes(), ISO_8859_1).contains("larger than"));
    }
  }

  @Test
  public void aClientWithoutAResponseGivesUpAfterItsWait() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    long start = System.nanoTime();
    Optional<AgentResponse> none = store.awaitResponse(id, SHORT);
    assertTrue(none.isEmpty());
    assertTrue(System.nanoTime() - start >= SHORT.toNanos());
  }

  @Test
  public void aFinishedExchangeIsNeitherPendingNorTakeable() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.finish(id);
    store.finish(id); // harmless twice
    assertEquals(List.of(), store.awaitPending("b", Duration.ZERO).get());
    assertTrue(store.take("b", id).isEmpty());
  }

  @Test
  public void aCancelledLongPollStopsPolling() throws Exception {
    CompletableFuture<List<String>> pending = store.awaitPending("b", Duration.ofSeconds(10));
    pending.cancel(false);
    Thread.sleep(50);
    assertTrue(pending.isCancelled());
  }

  @Test
  public void aResponseThatBeganInTimeIsAwaitedUntilItIsStored() throws Exception {
    String id = store.submit("b", BytesRequest.get("/"));
    store.take("b", id);
    byte[] whole = response("200 OK", bytes(100_000, 6));
    // The agent starts at once but its upload takes 400 ms, longer than the client's 150 ms wait.
    InputStream slow = new java.io.SequenceInputStream(new ByteArrayInputStream(whole, 0, 1000),
        new InputStream() {
          private final InputStream rest = new ByteArrayInputStream(whole, 1000, whole.length - 1000);
          private boolean slept;

          @Override
          public int read() throws IOException {
            pause();
            return rest.read();
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            pause();
            return rest.read(b, off, len);
          }

          private void pause() {
            if (!slept) {
              slept = true;
              try {
                Thread.sleep(400);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        });
    LocalAppEngine.inBackground(() -> {
      try {
        store.respond("b", id, slow);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    Thread.sleep(50);
    assertArrayEquals(whole, readAll(store.awaitResponse(id, Duration.ofMillis(150)).orElseThrow()));
  }
}
