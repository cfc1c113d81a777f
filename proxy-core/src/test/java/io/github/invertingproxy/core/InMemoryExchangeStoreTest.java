package io.github.invertingproxy.core;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.memory.InMemoryExchangeStore;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.core.spi.ResponseWaiter;
import io.github.invertingproxy.core.spi.ThreadlessWaits;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
      public boolean bufferable(int maxBodyBytes) {
        return true;
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

  /**
   * The agent takes request {@code id} (a {@link #slowRequest}) and writes it on a thread of its own;
   * returns once the write began ({@code writing} opened), with the write's end.
   */
  private CompletableFuture<Void> agentStartsWriting(String id, CountDownLatch writing) throws Exception {
    ExchangeRequest taken = store.take("b", id).orElseThrow();
    CompletableFuture<Void> agent = CompletableFuture.runAsync(() -> {
      try {
        taken.writeTo(new ByteArrayOutputStream());
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    assertTrue(writing.await(5, TimeUnit.SECONDS));
    return agent;
  }

  @Test
  public void clientStaysWhileTheAgentReadsItsRequestAndItsWaitStartsAfterward() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    String id = store.submit("b", slowRequest(writing, release, null));
    CompletableFuture<Void> agent = agentStartsWriting(id, writing);
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

  /** Submits a request and has it taken and written, as an agent's agent/request would. */
  private String submitAndDeliver(String backendId) throws IOException {
    String id = store.submit(backendId, request("GET / HTTP/1.1\r\n\r\n"));
    store.take(backendId, id).orElseThrow().writeTo(new ByteArrayOutputStream());
    return id;
  }

  /**
   * The agent responds to {@code id} on a thread of its own before any client waits; returns once
   * that thread waits for a client to take the response, with what its call will return.
   */
  private CompletableFuture<ResponseOutcome> respondFirst(String backendId, String id) throws InterruptedException {
    CompletableFuture<ResponseOutcome> agent = new CompletableFuture<>();
    Thread agentThread = new Thread(() -> {
      try {
        agent.complete(store.respond(backendId, id, ok()));
      } catch (IOException e) {
        agent.completeExceptionally(e);
      }
    }, "agent");
    agentThread.start();
    awaitWaiting(agentThread);
    return agent;
  }

  private static ByteArrayInputStream ok() {
    return new ByteArrayInputStream("HTTP/1.1 200 OK\r\n\r\n".getBytes(ISO_8859_1));
  }

  /** Waits (bounded) until {@code thread} waits too, so that what the test does next comes after. */
  private static void awaitWaiting(Thread thread) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (thread.getState() != Thread.State.TIMED_WAITING && thread.getState() != Thread.State.WAITING) {
      assertTrue("thread " + thread.getName() + " did not start waiting", System.nanoTime() < deadline);
      Thread.sleep(1);
    }
  }

  @Test
  public void aWaitingClientsResponseIsRelayedOnTheRespondingThread() throws Exception {
    String id = submitAndDeliver("b");
    CompletableFuture<Optional<String>> client = new CompletableFuture<>();
    Thread clientThread = new Thread(() -> {
      try {
        client.complete(store.awaitResponse(id, Duration.ofSeconds(5), r -> {
          r.finished(ResponseOutcome.RELAYED);
          return Thread.currentThread().getName();
        }));
      } catch (Exception e) {
        client.completeExceptionally(e);
      }
    }, "client");
    clientThread.start();
    awaitWaiting(clientThread);

    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, ok()));
    assertEquals(Optional.of(Thread.currentThread().getName()), client.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void aResponseThatCameFirstIsRelayedOnTheClientsThread() throws Exception {
    String id = submitAndDeliver("b");
    // The response is there, and the agent waits for the client to take it.
    CompletableFuture<ResponseOutcome> agent = respondFirst("b", id);
    Optional<String> relayedOn = store.awaitResponse(id, Duration.ofSeconds(5), r -> {
      r.finished(ResponseOutcome.RELAYED);
      return Thread.currentThread().getName();
    });
    assertEquals(Optional.of(Thread.currentThread().getName()), relayedOn);
    assertEquals(ResponseOutcome.RELAYED, agent.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void whatTheRelayThrowsOnTheRespondingThreadIsThrownToTheClient() throws Exception {
    String id = submitAndDeliver("b");
    CompletableFuture<Throwable> client = new CompletableFuture<>();
    Thread clientThread = new Thread(() -> {
      try {
        store.awaitResponse(id, Duration.ofSeconds(5), r -> {
          throw new IOException("client connection reset");
        });
        client.complete(null);
      } catch (Exception e) {
        client.complete(e);
      }
    }, "client");
    clientThread.start();
    awaitWaiting(clientThread);

    // A relay that did not say how it ended counts as a client gone.
    assertEquals(ResponseOutcome.CLIENT_GONE, store.respond("b", id, ok()));
    Throwable thrown = client.get(5, TimeUnit.SECONDS);
    assertTrue(String.valueOf(thrown), thrown instanceof IOException);
    assertEquals("client connection reset", thrown.getMessage());
  }

  @Test
  public void theClientStaysWhileItsResponseIsRelayedEvenPastItsWait() throws Exception {
    String id = submitAndDeliver("b");
    CountDownLatch relaying = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Optional<String>> client = new CompletableFuture<>();
    Thread clientThread = new Thread(() -> {
      try {
        client.complete(store.awaitResponse(id, Duration.ofMillis(100), r -> {
          relaying.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          r.finished(ResponseOutcome.RELAYED);
          return "done";
        }));
      } catch (Exception e) {
        client.completeExceptionally(e);
      }
    }, "client");
    clientThread.start();
    awaitWaiting(clientThread);
    CompletableFuture<ResponseOutcome> agent = CompletableFuture.supplyAsync(() -> {
      try {
        return store.respond("b", id, ok());
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    assertTrue(relaying.await(5, TimeUnit.SECONDS));
    clientThread.interrupt();
    Thread.sleep(300);
    assertFalse("the client left while its response was being relayed", client.isDone());
    release.countDown();
    assertEquals(Optional.of("done"), client.get(5, TimeUnit.SECONDS));
    assertEquals(ResponseOutcome.RELAYED, agent.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void takeNextTakesTheOldestQueuedRequestOfThatBackendOnly() throws Exception {
    String listed = store.submit("b", request("listed"));
    assertEquals(List.of(listed), store.awaitPending("b", Duration.ZERO).get());
    String first = store.submit("b", request("first"));
    store.submit("other", request("other"));
    String second = store.submit("b", request("second"));

    assertEquals(first, store.takeNext("b").orElseThrow().id());
    assertEquals(second, store.takeNext("b").orElseThrow().id());
    assertTrue(store.takeNext("b").isEmpty());
    assertTrue(store.takeNext("nobody").isEmpty());
    // Taken means taken: neither listed again nor takeable by id.
    assertEquals(Optional.empty(), store.take("b", first));
    assertEquals(List.of(), store.awaitPending("b", Duration.ZERO).get());
  }

  /** A thread-less waiter that records what it heard, and on which thread. */
  private static final class RecordingWaiter implements ResponseWaiter {
    final List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    final CountDownLatch done = new CountDownLatch(1);
    volatile String thread;
    volatile String body;
    volatile boolean whole;

    @Override
    public void onResponse(AgentResponse response) {
      try {
        body = new String(response.stream().readAllBytes(), ISO_8859_1);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      whole = response.whole();
      response.finished(ResponseOutcome.RELAYED);
      hear("response");
    }

    @Override
    public void onTimeout() {
      hear("timeout");
    }

    @Override
    public void onFailure(IOException failure) {
      hear("failure: " + failure.getMessage());
    }

    @Override
    public void onShutdown() {
      hear("shutdown");
    }

    private void hear(String what) {
      thread = Thread.currentThread().getName();
      heard.add(what);
      done.countDown();
    }
  }

  @Test
  public void aThreadlessWaitHasItsResponseRelayedOnTheRespondingThread() throws Exception {
    String id = submitAndDeliver("b");
    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofSeconds(5), waiter);
    assertEquals(List.of(), waiter.heard);

    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, ok()));
    assertEquals(List.of("response"), waiter.heard);
    assertEquals(Thread.currentThread().getName(), waiter.thread);
    assertEquals("HTTP/1.1 200 OK\r\n\r\n", waiter.body);
    assertFalse("a posted response streams", waiter.whole);
  }

  @Test
  public void aResponseFromAChannelIsRelayedWholeByTheThreadThatDeliversIt() throws Exception {
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    store.attachChannel("b", (requestId, request) -> {
      try {
        request.writeTo(sent);
        return true;
      } catch (IOException e) {
        return false;
      }
    });
    String id = store.submit("b", request("GET / HTTP/1.1\r\n\r\n"));
    assertEquals("GET / HTTP/1.1\r\n\r\n", sent.toString(ISO_8859_1));
    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofSeconds(5), waiter);

    assertFalse("another backend's channel cannot answer it", store.deliver("c", id, new byte[0]));
    assertTrue(store.deliver("b", id, "HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1)));
    assertEquals(List.of("response"), waiter.heard);
    assertEquals(Thread.currentThread().getName(), waiter.thread);
    assertTrue(waiter.whole);
    assertFalse("answered once only", store.deliver("b", id, new byte[0]));
  }

  @Test
  public void aResponseThatCameFirstIsRelayedByTheThreadThatBeginsTheThreadlessWait() throws Exception {
    String id = submitAndDeliver("b");
    CompletableFuture<ResponseOutcome> agent = respondFirst("b", id);

    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofSeconds(5), waiter);
    assertEquals(List.of("response"), waiter.heard);
    assertEquals(Thread.currentThread().getName(), waiter.thread);
    assertEquals(ResponseOutcome.RELAYED, agent.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void aThreadlessWaitTimesOutOnceAndALateResponseFindsNoClient() throws Exception {
    String id = submitAndDeliver("b");
    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofMillis(100), waiter);

    assertTrue("the wait timed out", waiter.done.await(5, TimeUnit.SECONDS));
    assertEquals("exchange-timer", waiter.thread);
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, store.respond("b", id, ok()));
    Thread.sleep(3 * 50); // a few more sweeps
    assertEquals(List.of("timeout"), waiter.heard);
  }

  @Test
  public void aThreadlessWaitStartsItsTimeoutOnlyOnceTheAgentHasTheRequest() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    String id = store.submit("b", slowRequest(writing, release, null));
    CompletableFuture<Void> agent = agentStartsWriting(id, writing);
    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofMillis(100), waiter);

    Thread.sleep(400); // well past the wait, but the agent still reads the request
    assertEquals(List.of(), waiter.heard);
    release.countDown();
    agent.get(5, TimeUnit.SECONDS);
    assertEquals(ResponseOutcome.RELAYED, store.respond("b", id, ok()));
    assertEquals(List.of("response"), waiter.heard);
  }

  @Test
  public void aRequestThatCannotBeDeliveredFailsTheThreadlessWait() throws Exception {
    String id = store.submit("b", slowRequest(new CountDownLatch(1), new CountDownLatch(0), new IOException("client body broke")));
    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofSeconds(5), waiter);
    ExchangeRequest taken = store.take("b", id).orElseThrow();
    try {
      taken.writeTo(new ByteArrayOutputStream());
    } catch (IOException expected) {
      // and the waiting client hears of it:
    }
    assertEquals(List.of("failure: the request could not be delivered to the agent: client body broke"), waiter.heard);
  }

  @Test
  public void endingTheWaitsAnswersEveryThreadlessWaiterOnceAndTheirResponsesFindNoClient() throws Exception {
    String first = submitAndDeliver("b");
    String second = submitAndDeliver("c");
    RecordingWaiter one = new RecordingWaiter();
    RecordingWaiter two = new RecordingWaiter();
    store.awaitResponseAsync(first, Duration.ofSeconds(5), one);
    store.awaitResponseAsync(second, Duration.ofSeconds(5), two);

    store.endWaits();
    store.endWaits();
    assertEquals(List.of("shutdown"), one.heard);
    assertEquals(List.of("shutdown"), two.heard);
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, store.respond("b", first, ok()));
  }

  @Test
  public void aFinishedExchangeIsNeverAnsweredToItsThreadlessWaiter() throws Exception {
    String id = submitAndDeliver("b");
    RecordingWaiter waiter = new RecordingWaiter();
    store.awaitResponseAsync(id, Duration.ofMillis(100), waiter);
    store.finish(id);

    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, store.respond("b", id, ok()));
    Thread.sleep(300); // past the wait
    assertEquals(List.of(), waiter.heard);
  }

  @Test
  public void theStoresChannelDeliveryAndThreadlessWaitsAreReachedThroughTheSpi() throws Exception {
    ExchangeStore spi = store;
    ChannelDelivery channels = spi.capability(ChannelDelivery.class).orElseThrow();
    List<String> sent = new ArrayList<>();
    channels.attachChannel("b", (requestId, request) -> sent.add(requestId));
    String id = store.submit("b", request("x"));
    assertEquals(List.of(id), sent);
    channels.detachChannel("b", (requestId, request) -> true); // another channel: no effect
    assertEquals(1, store.channelCount("b"));
    assertTrue(spi.capability(ThreadlessWaits.class).isPresent());
    assertEquals(Optional.empty(), spi.capability(Runnable.class));
  }
}
