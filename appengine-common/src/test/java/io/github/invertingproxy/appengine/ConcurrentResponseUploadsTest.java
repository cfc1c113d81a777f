package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.spi.ResponseOutcome;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;

/**
 * Two uploads of one response at once, on two instances (two stores that share only Datastore and
 * Memcache): the agent retried {@code agent/response} on another instance while the first upload
 * was still being read. Whatever the first upload does afterwards must not spoil the second.
 */
public class ConcurrentResponseUploadsTest {
  private static final ExchangeSettings SETTINGS =
      ExchangeSettings.builder().partSize(1024).datastoreFallback(Duration.ofMillis(50)).build();

  @Rule public final LocalAppEngine appEngine = new LocalAppEngine();

  private final DatastoreExchangeStore proxy = new DatastoreExchangeStore(SETTINGS, new TestClock());
  private final DatastoreExchangeStore firstAgentInstance = new DatastoreExchangeStore(SETTINGS, new TestClock());
  private final DatastoreExchangeStore secondAgentInstance = new DatastoreExchangeStore(SETTINGS, new TestClock());

  @After
  public void closeStores() {
    proxy.close();
    firstAgentInstance.close();
    secondAgentInstance.close();
  }

  private static byte[] response(int bodyLength) {
    byte[] body = new byte[bodyLength];
    new Random(bodyLength).nextBytes(body);
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + bodyLength + "\r\n\r\n").getBytes(ISO_8859_1);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /**
   * The first {@code sent} bytes, then a wait for {@code release}, then a broken connection or,
   * when {@code resumes}, the rest.
   */
  private static final class PausedUpload extends InputStream {
    final CountDownLatch allSent = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private final InputStream sent;
    private final InputStream rest;

    PausedUpload(byte[] whole, int sent, boolean resumes) {
      this.sent = new ByteArrayInputStream(whole, 0, sent);
      this.rest = resumes ? new ByteArrayInputStream(whole, sent, whole.length - sent) : null;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = sent.read(b, off, len);
      if (n > 0) {
        return n;
      }
      allSent.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (rest == null) {
        throw new IOException("connection reset by peer");
      }
      return rest.read(b, off, len);
    }
  }

  /** Starts {@code upload} through {@code instance} and returns once it has paused. */
  private static Thread respondInBackground(DatastoreExchangeStore instance, String id, PausedUpload upload,
      AtomicReference<ResponseOutcome> outcome) throws InterruptedException {
    Thread call = LocalAppEngine.inBackground(() -> {
      try {
        outcome.set(instance.respond("b", id, upload));
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    assertTrue("the upload never paused", upload.allSent.await(10, TimeUnit.SECONDS));
    return call;
  }

  private static int storedParts() {
    return Persistence.run(() -> ofy().load().type(BodyPartEntity.class).count());
  }

  @Test
  public void anUploadThatBreaksOffLaterLeavesTheResponseAnotherInstanceStoredIntact() throws Exception {
    String id = proxy.submit("b", BytesRequest.get("/"));
    assertTrue(firstAgentInstance.take("b", id).isPresent());
    byte[] whole = response(10_000);
    PausedUpload first = new PausedUpload(whole, 4_000, false);
    AtomicReference<ResponseOutcome> firstOutcome = new AtomicReference<>();
    Thread firstCall = respondInBackground(firstAgentInstance, id, first, firstOutcome);

    // The retry, on another instance, stores the whole response before the first call notices its loss.
    assertEquals(ResponseOutcome.RELAYED, secondAgentInstance.respond("b", id, new ByteArrayInputStream(whole)));
    first.release.countDown();
    firstCall.join(10_000);
    assertEquals(ResponseOutcome.TRUNCATED, firstOutcome.get());

    try (InputStream relayed = proxy.awaitResponse(id, Duration.ofSeconds(2)).orElseThrow().stream()) {
      assertArrayEquals(whole, relayed.readAllBytes());
    }
  }

  @Test
  public void anUploadThatEndsAfterAnotherWasStoredFindsNoWaitingClientAndLeavesNoPartsBehind() throws Exception {
    String id = proxy.submit("b", BytesRequest.get("/"));
    assertTrue(firstAgentInstance.take("b", id).isPresent());
    byte[] whole = response(10_000);
    PausedUpload first = new PausedUpload(whole, 4_000, true);
    AtomicReference<ResponseOutcome> firstOutcome = new AtomicReference<>();
    Thread firstCall = respondInBackground(firstAgentInstance, id, first, firstOutcome);

    assertEquals(ResponseOutcome.RELAYED, secondAgentInstance.respond("b", id, new ByteArrayInputStream(whole)));
    int stored = storedParts(); // the request's, the stored response's and the paused upload's so far
    first.release.countDown();
    firstCall.join(10_000);
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, firstOutcome.get());

    try (InputStream relayed = proxy.awaitResponse(id, Duration.ofSeconds(2)).orElseThrow().stream()) {
      assertArrayEquals(whole, relayed.readAllBytes());
    }
    assertTrue("the losing upload left parts behind", storedParts() < stored);
    assertEquals(1 + (whole.length + 1023) / 1024, storedParts());
  }
}
