package io.github.invertingproxy.core.memory;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.memory.Exchange.State;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.core.spi.ResponseWaiter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/** The states of one exchange, driven directly from the agent's and the client's side. */
public class ExchangeTest {
  private static final Duration LONG = Duration.ofSeconds(10);
  private final CountDownLatch writing = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  /** A request that writes {@code text}; when {@code slow}, only once {@link #release} opens. */
  private ExchangeRequest request(String text, boolean slow, IOException failure) {
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
        writing.countDown();
        if (slow) {
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
        }
        if (failure != null) {
          throw failure;
        }
        out.write(text.getBytes(ISO_8859_1));
      }
    };
  }

  private Exchange exchange() {
    return new Exchange("r1", "b", request("GET / HTTP/1.1\r\n\r\n", false, null));
  }

  private static void write(Exchange e) throws IOException {
    e.delivery().writeTo(new ByteArrayOutputStream());
  }

  private static Exchange delivered(Exchange e) throws IOException {
    write(e);
    return e;
  }

  /** An exchange whose agent writes the request on another thread until {@link #release} opens. */
  private CompletableFuture<Void> writingSlowly(Exchange e) throws InterruptedException {
    CompletableFuture<Void> agent = CompletableFuture.runAsync(() -> {
      try {
        write(e);
      } catch (IOException x) {
        throw new RuntimeException(x);
      }
    });
    assertTrue(writing.await(5, TimeUnit.SECONDS));
    return agent;
  }

  private static InputStream response() {
    return new ByteArrayInputStream("HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1));
  }

  /** The agent's {@code agent/response} call on a thread of its own. */
  private static CompletableFuture<ResponseOutcome> respondAsync(Exchange e) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return e.respond(response());
      } catch (IOException x) {
        throw new RuntimeException(x);
      }
    });
  }

  private static void awaitState(Exchange e, State expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (e.state() != expected && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(expected, e.state());
  }

  /** A thread-less waiter that records how its wait ended, and on which thread. */
  private static final class Waiter implements ResponseWaiter {
    final List<String> heard = new ArrayList<>();
    volatile Thread thread;
    Runnable onResponse = () -> {};

    @Override
    public synchronized void onResponse(AgentResponse response) {
      thread = Thread.currentThread();
      heard.add("response");
      onResponse.run();
      response.finished(ResponseOutcome.RELAYED);
    }

    @Override
    public synchronized void onTimeout() {
      heard.add("timeout");
    }

    @Override
    public synchronized void onFailure(IOException failure) {
      heard.add("failure: " + failure.getMessage());
    }

    @Override
    public synchronized void onShutdown() {
      heard.add("shutdown");
    }
  }

  // ---- Legal transitions.

  @Test
  public void aNewExchangeIsPendingAndWritingItsRequestDeliversIt() throws Exception {
    Exchange e = exchange();
    assertEquals(State.PENDING, e.state());
    ByteArrayOutputStream agent = new ByteArrayOutputStream();
    e.delivery().writeTo(agent);
    assertEquals("GET / HTTP/1.1\r\n\r\n", agent.toString(ISO_8859_1));
    assertEquals(State.DELIVERED, e.state());
  }

  @Test
  public void anExchangeIsWritingWhileItsAgentReadsTheRequest() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", true, null));
    CompletableFuture<Void> agent = writingSlowly(e);
    assertEquals(State.WRITING, e.state());
    release.countDown();
    agent.get(5, TimeUnit.SECONDS);
    assertEquals(State.DELIVERED, e.state());
  }

  @Test
  public void aRequestThatCannotBeWrittenMakesTheExchangeUndeliverableAndTheClientHearsWhy() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", false, new IOException("client body broke")));
    assertThrows(IOException.class, () -> write(e));
    assertEquals(State.UNDELIVERABLE, e.state());
    IOException heard = assertThrows(IOException.class, () -> e.await(LONG, null));
    assertEquals("the request could not be delivered to the agent: client body broke", heard.getMessage());
  }

  @Test
  public void aResponseToAClientWaitingWithoutAHandlerIsReadOnTheClientsThread() throws Exception {
    Exchange e = delivered(exchange());
    CompletableFuture<ResponseOutcome> agent = respondAsync(e);
    AgentResponse response = e.await(LONG, null).orElseThrow();
    assertEquals(State.RESPONDED, e.state());
    assertFalse("the agent waits for the client to read its response", agent.isDone());
    response.finished(ResponseOutcome.RELAYED);
    assertEquals(ResponseOutcome.RELAYED, agent.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void aResponseToAClientWaitingWithAHandlerIsRelayedOnTheRespondingThread() throws Exception {
    Exchange e = delivered(exchange());
    Thread[] clientThread = new Thread[1];
    CompletableFuture<Optional<Thread>> client = CompletableFuture.supplyAsync(() -> {
      clientThread[0] = Thread.currentThread();
      try {
        return e.awaitRelayed(LONG, r -> {
          r.finished(ResponseOutcome.RELAYED);
          return Thread.currentThread();
        });
      } catch (Exception x) {
        throw new RuntimeException(x);
      }
    });
    // The client registers its handler before the response comes, the usual order.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while ((clientThread[0] == null || clientThread[0].getState() != Thread.State.TIMED_WAITING)
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread[] agentThread = new Thread[1];
    CompletableFuture<ResponseOutcome> agent = CompletableFuture.supplyAsync(() -> {
      agentThread[0] = Thread.currentThread();
      try {
        return e.respond(response());
      } catch (IOException x) {
        throw new RuntimeException(x);
      }
    });
    assertEquals(ResponseOutcome.RELAYED, agent.get(5, TimeUnit.SECONDS));
    assertSame(agentThread[0], client.get(5, TimeUnit.SECONDS).orElseThrow());
    assertEquals(State.RELAYED, e.state());
  }

  @Test
  public void aResponseMayBeginBeforeTheRequestIsWrittenWholeAndTheClientStaysUntilItIs() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", true, null));
    CompletableFuture<Void> writer = writingSlowly(e);
    CompletableFuture<ResponseOutcome> agent = respondAsync(e);
    awaitState(e, State.RESPONDED);
    CompletableFuture<Optional<AgentResponse>> client = CompletableFuture.supplyAsync(() -> {
      try {
        return e.await(LONG, null);
      } catch (Exception x) {
        throw new RuntimeException(x);
      }
    });
    Thread.sleep(100);
    assertFalse("the client left while its request was still read", client.isDone());
    release.countDown();
    writer.get(5, TimeUnit.SECONDS);
    client.get(5, TimeUnit.SECONDS).orElseThrow().finished(ResponseOutcome.RELAYED);
    assertEquals(ResponseOutcome.RELAYED, agent.get(5, TimeUnit.SECONDS));
    assertEquals(State.RESPONDED, e.state());
  }

  @Test
  public void aDeliveredRequestGoesBackToPendingAndIsWrittenAgain() throws Exception {
    Exchange e = delivered(exchange());
    assertTrue(e.backToPending());
    assertEquals(State.PENDING, e.state());
    write(e);
    assertEquals(State.DELIVERED, e.state());
  }

  @Test
  public void aWholeResponseIsRelayedToAThreadlessWaiterOnTheThreadThatBringsIt() throws Exception {
    Exchange e = delivered(exchange());
    Waiter waiter = new Waiter();
    e.awaitWithoutThread(LONG, waiter);
    assertTrue(e.respondWhole("HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1)));
    assertEquals(List.of("response"), waiter.heard);
    assertSame(Thread.currentThread(), waiter.thread);
    assertEquals(State.RELAYED, e.state());
  }

  @Test
  public void aResponseThatCameFirstIsRelayedByTheThreadThatBeginsTheThreadlessWait() throws Exception {
    Exchange e = delivered(exchange());
    assertTrue(e.respondWhole(new byte[0]));
    Waiter waiter = new Waiter();
    e.awaitWithoutThread(LONG, waiter);
    assertSame(Thread.currentThread(), waiter.thread);
    assertEquals(State.RELAYED, e.state());
  }

  // ---- Refused transitions.

  @Test
  public void aPendingExchangeTakesNoResponse() throws Exception {
    Exchange e = exchange();
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, e.respond(response()));
    assertFalse(e.respondWhole(new byte[0]));
    assertEquals(State.PENDING, e.state());
  }

  @Test
  public void theRequestIsWrittenOnlyOnceAndTheRefusalNamesTheState() throws Exception {
    Exchange e = delivered(exchange());
    IOException refused = assertThrows(IOException.class, () -> write(e));
    assertEquals("request r1 is DELIVERED: its request is written only while PENDING", refused.getMessage());
    assertEquals(State.DELIVERED, e.state());
  }

  @Test
  public void anAnsweredExchangeTakesNoSecondResponse() throws Exception {
    Exchange e = delivered(exchange());
    assertTrue(e.respondWhole(new byte[0]));
    assertFalse(e.respondWhole(new byte[0]));
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, e.respond(response()));
    assertFalse("an answered request is not written again", e.backToPending());
    assertEquals(State.RESPONDED, e.state());
  }

  @Test
  public void anUndeliverableExchangeTakesNoResponseAndIsNotWrittenAgain() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", false, new IOException("broke")));
    assertThrows(IOException.class, () -> write(e));
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, e.respond(response()));
    assertFalse(e.respondWhole(new byte[0]));
    assertFalse(e.backToPending());
    assertEquals(State.UNDELIVERABLE, e.state());
  }

  @Test
  public void aRequestBeingWrittenDoesNotGoBackToPending() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", true, null));
    CompletableFuture<Void> agent = writingSlowly(e);
    assertFalse(e.backToPending());
    release.countDown();
    agent.get(5, TimeUnit.SECONDS);
    assertEquals(State.DELIVERED, e.state());
  }

  @Test
  public void aClientWaitsWithoutAThreadOnlyOnce() throws Exception {
    Exchange e = delivered(exchange());
    e.awaitWithoutThread(LONG, new Waiter());
    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> e.awaitWithoutThread(LONG, new Waiter()));
    assertEquals("the client of request r1 waits already", refused.getMessage());
  }

  // ---- Timeouts.

  @Test
  public void aClientsWaitTimesOutAndClosesTheExchange() throws Exception {
    Exchange e = delivered(exchange());
    assertEquals(Optional.empty(), e.await(Duration.ofMillis(20), null));
    assertEquals(State.CLOSED, e.state());
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, e.respond(response()));
  }

  @Test
  public void anInterruptedClientClosesTheExchange() throws Exception {
    Exchange e = delivered(exchange());
    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> e.await(LONG, null));
    assertEquals(State.CLOSED, e.state());
  }

  @Test
  public void aThreadlessWaitIsDueOnlyOnceItsTimeHasPassedAndIsEndedOnce() throws Exception {
    Exchange e = delivered(exchange());
    Waiter waiter = new Waiter();
    e.awaitWithoutThread(Duration.ofSeconds(60), waiter);
    assertNull("not due yet", e.endWaitIfDue(System.nanoTime()));
    long later = System.nanoTime() + Duration.ofSeconds(61).toNanos();
    assertSame(waiter, e.endWaitIfDue(later));
    assertEquals(State.CLOSED, e.state());
    assertNull("ended once only", e.endWaitIfDue(later));
    assertFalse("a late response finds no client", e.respondWhole(new byte[0]));
  }

  @Test
  public void aThreadlessWaitIsNotDueWhileItsRequestIsWritten() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", true, null));
    CompletableFuture<Void> agent = writingSlowly(e);
    e.awaitWithoutThread(Duration.ofMillis(1), new Waiter());
    assertNull(e.endWaitIfDue(System.nanoTime() + Duration.ofSeconds(60).toNanos()));
    release.countDown();
    agent.get(5, TimeUnit.SECONDS);
    assertEquals(State.DELIVERED, e.state());
  }

  @Test
  public void aThreadlessWaitEndsAtShutdownUnlessItsResponseBegan() throws Exception {
    Exchange waiting = delivered(exchange());
    Waiter waiter = new Waiter();
    waiting.awaitWithoutThread(LONG, waiter);
    assertSame(waiter, waiting.endWaitNow());
    assertEquals(State.CLOSED, waiting.state());

    Exchange answered = delivered(exchange());
    answered.awaitWithoutThread(LONG, new Waiter());
    assertTrue(answered.respondWhole(new byte[0]));
    assertNull(answered.endWaitNow());
    assertEquals(State.RELAYED, answered.state());
  }

  @Test
  public void aRequestThatCannotBeWrittenFailsTheThreadlessWait() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", false, new IOException("broke")));
    Waiter waiter = new Waiter();
    e.awaitWithoutThread(LONG, waiter);
    assertThrows(IOException.class, () -> write(e));
    assertEquals(List.of("failure: the request could not be delivered to the agent: broke"), waiter.heard);
  }

  // ---- The client going away, in each state.

  @Test
  public void aClientGoneWhilePendingLeavesNothingToWrite() throws Exception {
    Exchange e = exchange();
    e.clientGone();
    assertEquals(State.CLOSED, e.state());
    IOException refused = assertThrows(IOException.class, () -> write(e));
    assertEquals("the client of request r1 went away", refused.getMessage());
  }

  @Test
  public void aClientGoneWhileItsRequestIsWrittenStaysGoneAndTakesNoResponse() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", true, null));
    CompletableFuture<Void> agent = writingSlowly(e);
    e.clientGone();
    release.countDown();
    agent.get(5, TimeUnit.SECONDS);
    assertEquals(State.CLOSED, e.state());
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, e.respond(response()));
  }

  @Test
  public void aClientGoneAfterDeliveryTakesNoResponseAndIsNotWrittenAgain() throws Exception {
    Exchange e = delivered(exchange());
    e.clientGone();
    assertEquals(ResponseOutcome.NO_WAITING_CLIENT, e.respond(response()));
    assertFalse(e.backToPending());
    assertEquals(State.CLOSED, e.state());
  }

  @Test
  public void aClientGoneAfterAFailedDeliveryIsClosed() throws Exception {
    Exchange e = new Exchange("r1", "b", request("x", false, new IOException("broke")));
    assertThrows(IOException.class, () -> write(e));
    e.clientGone();
    assertEquals(State.CLOSED, e.state());
  }

  @Test
  public void aClientGoneBeforeReadingItsResponseReleasesTheAgentWithClientGone() throws Exception {
    Exchange e = delivered(exchange());
    CompletableFuture<ResponseOutcome> agent = respondAsync(e);
    awaitState(e, State.RESPONDED);
    e.clientGone();
    assertEquals(ResponseOutcome.CLIENT_GONE, agent.get(5, TimeUnit.SECONDS));
    assertEquals(State.CLOSED, e.state());
  }

  @Test
  public void aClientGoneWhileItsResponseIsRelayedStaysGone() throws Exception {
    Exchange e = delivered(exchange());
    Waiter waiter = new Waiter();
    State[] during = new State[1];
    waiter.onResponse = () -> {
      during[0] = e.state();
      e.clientGone();
    };
    e.awaitWithoutThread(LONG, waiter);
    assertTrue(e.respondWhole(new byte[0]));
    assertEquals(State.RELAYING, during[0]);
    assertEquals(State.CLOSED, e.state());
  }

  @Test
  public void aClientGoneAfterItsRelayIsClosed() throws Exception {
    Exchange e = delivered(exchange());
    e.awaitWithoutThread(LONG, new Waiter());
    assertTrue(e.respondWhole(new byte[0]));
    assertEquals(State.RELAYED, e.state());
    e.clientGone();
    assertEquals(State.CLOSED, e.state());
    assertFalse(e.respondWhole(new byte[0]));
  }

  @Test
  public void aClosedExchangeAnswersANewThreadlessWaitWithATimeout() throws Exception {
    Exchange e = delivered(exchange());
    e.clientGone();
    Waiter waiter = new Waiter();
    e.awaitWithoutThread(LONG, waiter);
    assertEquals(List.of("timeout"), waiter.heard);
  }
}
