package io.github.invertingproxy.core;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.memory.InMemoryExchangeStore;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Test;

public class InMemoryExchangeStoreTest {
  private final InMemoryExchangeStore store = new InMemoryExchangeStore(Duration.ofMillis(200));

  @After
  public void close() {
    store.close();
  }

  private static ExchangeRequest request(String text) {
    return new ExchangeRequest() {
      @Override
      public String user() {
        return "u@x";
      }

      @Override
      public Instant startTime() {
        return Instant.EPOCH;
      }

      @Override
      public String method() {
        return "GET";
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        out.write(text.getBytes(ISO_8859_1));
      }
    };
  }

  @Test
  public void waitingPollGetsANewRequestAtOnce() throws Exception {
    CompletableFuture<List<String>> poll = store.awaitPending("b", Duration.ofSeconds(10));
    assertFalse(poll.isDone());
    String id = store.submit("b", request("x"));
    assertEquals(List.of(id), poll.get(1, TimeUnit.SECONDS));
  }

  @Test
  public void emptyWaitEndsWithNoIds() throws Exception {
    assertEquals(List.of(), store.awaitPending("b", Duration.ofMillis(50)).get(1, TimeUnit.SECONDS));
  }

  @Test
  public void idsAreListedToOnePollOnly() throws Exception {
    String id = store.submit("b", request("x"));
    assertEquals(List.of(id), store.awaitPending("b", Duration.ofMillis(10)).get());
    assertEquals(List.of(), store.awaitPending("b", Duration.ofMillis(10)).get());
  }

  @Test
  public void untakenIdIsListedAgainAfterItsLease() throws Exception {
    String id = store.submit("b", request("x"));
    store.awaitPending("b", Duration.ofMillis(10)).get();
    assertEquals(List.of(id), store.awaitPending("b", Duration.ofSeconds(5)).get(5, TimeUnit.SECONDS));
  }

  @Test
  public void takenIdIsNeverListedAgain() throws Exception {
    String id = store.submit("b", request("x"));
    store.awaitPending("b", Duration.ofMillis(10)).get();
    assertTrue(store.take("b", id).isPresent());
    assertEquals(List.of(), store.awaitPending("b", Duration.ofMillis(400)).get());
  }

  @Test
  public void anotherBackendCannotTakeOrAnswerTheRequest() throws Exception {
    String id = store.submit("b", request("x"));
    assertEquals(Optional.empty(), store.take("other", id));
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, store.respond("other", id, new ByteArrayInputStream(new byte[0])));
    assertEquals(List.of(), store.awaitPending("other", Duration.ofMillis(10)).get());
  }

  @Test
  public void requestIsWrittenToTheAgentAndTheResponseHandedBack() throws Exception {
    String id = store.submit("b", request("GET / HTTP/1.1\r\n\r\n"));
    CompletableFuture<Optional<AgentResponse>> client = CompletableFuture.supplyAsync(() -> {
      try {
        Optional<AgentResponse> r = store.awaitResponse(id, Duration.ofSeconds(5));
        r.ifPresent(x -> x.finished(ResponseOutcome.RELAYED));
        return r;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    store.take("b", id).orElseThrow().writeTo(received);
    assertEquals("GET / HTTP/1.1\r\n\r\n", received.toString(ISO_8859_1));
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, new ByteArrayInputStream("HTTP/1.1 200 OK\r\n\r\n".getBytes(ISO_8859_1))));
    assertTrue(client.get(5, TimeUnit.SECONDS).isPresent());
  }

  /** A request whose body the agent reads until {@code release} opens (or fails with {@code failure}). */
  private static ExchangeRequest slowRequest(CountDownLatch writing, CountDownLatch release, IOException failure) {
    return new ExchangeRequest() {
      @Override
      public String user() {
        return "";
      }

      @Override
      public Instant startTime() {
        return Instant.EPOCH;
      }

      @Override
      public String method() {
        return "POST";
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        writing.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        if (failure != null) {
          throw failure;
        }
        out.write('x');
      }
    };
  }

  @Test
  public void clientStaysWhileTheAgentReadsItsRequestAndItsWaitStartsAfterward() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    String id = store.submit("b", slowRequest(writing, release, null));
    ExchangeRequest taken = store.take("b", id).orElseThrow();
    CompletableFuture<Void> agent = CompletableFuture.runAsync(() -> {
      try {
        taken.writeTo(new ByteArrayOutputStream());
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    assertTrue(writing.await(5, TimeUnit.SECONDS));
    CompletableFuture<Long> client = CompletableFuture.supplyAsync(() -> {
      try {
        long start = System.nanoTime();
        assertEquals(Optional.empty(), store.awaitResponse(id, Duration.ofMillis(50)));
        return System.nanoTime() - start;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    Thread.sleep(300);
    assertFalse("the client left while its request was being read", client.isDone());
    release.countDown();
    agent.get(5, TimeUnit.SECONDS);
    assertTrue(client.get(5, TimeUnit.SECONDS) >= TimeUnit.MILLISECONDS.toNanos(300));
    store.finish(id);
  }

  @Test(expected = IOException.class)
  public void requestThatCannotBeDeliveredFailsTheClient() throws Throwable {
    CountDownLatch release = new CountDownLatch(0);
    String id = store.submit("b", slowRequest(new CountDownLatch(1), release, new IOException("client body broke")));
    ExchangeRequest taken = store.take("b", id).orElseThrow();
    try {
      taken.writeTo(new ByteArrayOutputStream());
    } catch (IOException expected) {
      // and the client learns of it:
    }
    try {
      store.awaitResponse(id, Duration.ofSeconds(5));
    } finally {
      store.finish(id);
    }
  }

  @Test
  public void clientThatGaveUpReleasesTheAgentWithNoWaitingClient() throws Exception {
    String id = store.submit("b", request("x"));
    assertEquals(Optional.empty(), store.awaitResponse(id, Duration.ofMillis(20)));
    store.finish(id);
    assertEquals(Optional.empty(), store.take("b", id));
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, store.respond("b", id, new ByteArrayInputStream(new byte[0])));
    assertEquals(0, store.size());
  }

  @Test
  public void idsAreLongAndDistinct() throws Exception {
    String a = store.submit("b", request("x"));
    String b = store.submit("b", request("x"));
    assertTrue(a.matches("[0-9a-f]{64}"));
    assertFalse(a.equals(b));
  }
}
