package io.github.invertingproxy.core.memory;

import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ResponseHandler;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.core.spi.ResponseWaiter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One client's request and its response, between the client's thread and the agent's: the
 * {@link State states} it goes through, each change checked under its one lock (its monitor, which
 * the waiting client's thread also waits on). Where it waits in its backend's queue is the queue's
 * business ({@link PendingQueue}), under the queue's lock.
 *
 * <p>Two holds keep the client's thread from leaving while another thread uses its streams: the
 * agent's thread writing the request ({@link #writing}, which may outlast {@link State#WRITING} when
 * the response begins before the request is written whole), and a relay on the responding thread
 * ({@link State#RELAYING}).
 */
final class Exchange {
  /**
   * The life of an exchange: PENDING → WRITING → DELIVERED → RESPONDED, or RELAYING → RELAYED; WRITING →
   * UNDELIVERABLE; DELIVERED → PENDING when its agent never had it after all. Every state may go to CLOSED.
   */
  enum State {
    /** No agent has begun to write the request: it waits in the queue, is listed to a poll, or was handed out. */
    PENDING,
    /** An agent's thread writes the request (reading the client's body). */
    WRITING,
    /** The agent has the whole request; the wait for its response runs from here. */
    DELIVERED,
    /** Writing the request failed: the client hears that failure. */
    UNDELIVERABLE,
    /** A response began; the client's thread relays it, or reads it itself. */
    RESPONDED,
    /** The responding thread runs the client's handler or thread-less waiter on the response. */
    RELAYING,
    /** The responding thread has relayed the response; the client's thread picks up the result. */
    RELAYED,
    /** The client went away, or its wait ended without a response: nothing more is taken. */
    CLOSED
  }

  final String id;
  final String backendId;
  final ExchangeRequest request;

  // Owned by the backend's PendingQueue, under its lock.
  PendingQueue.Place place = PendingQueue.Place.QUEUED;
  /** While LEASED: when the lease ends (System.nanoTime). */
  long leaseDeadline;

  // Guarded by this.
  private State state = State.PENDING;
  /** The agent's thread is inside the request's writeTo: the client's call must not end yet. */
  private boolean writing;
  /** When the agent had the whole request (System.nanoTime), or 0. */
  private long deliveredNanos;
  private IOException deliveryFailure;
  /** The client's thread waits for a hold to end (and must be woken when the writer's does). */
  private boolean clientWaitsForHold;
  private Handoff response;
  /** The client's thread waits for the agent's thread to run this on the response. */
  private ResponseHandler<?> handler;
  /** The client waits without a thread (instead of {@link #handler}); taken by whoever ends the wait. */
  private ThreadlessWait waiter;
  /** What the responding thread's run of {@link #handler} gave. */
  private HandlerResult relayResult;

  Exchange(String id, String backendId, ExchangeRequest request) {
    this.id = id;
    this.backendId = backendId;
    this.request = request;
  }

  synchronized State state() {
    return state;
  }

  // ---- The agent's side.

  /** The request as its agent receives it: writing it moves this exchange on (see {@link #startWriting}). */
  ExchangeRequest delivery() {
    return new Delivery(this);
  }

  /**
   * PENDING → WRITING: the agent's thread begins to write the request ({@link Delivery}), a hold until
   * {@link #written}. Only once per time the request was pending.
   */
  synchronized void startWriting() throws IOException {
    if (state == State.CLOSED) {
      throw new IOException("the client of request " + id + " went away");
    }
    if (state != State.PENDING) {
      throw new IOException("request " + id + " is " + state + ": its request is written only while PENDING");
    }
    state = State.WRITING;
    writing = true;
  }

  /**
   * WRITING → DELIVERED, or UNDELIVERABLE with {@code failure} (its thread-less waiter then hears so
   * here); ends the writing hold either way.
   */
  void written(IOException failure) {
    ResponseWaiter toFail = null;
    synchronized (this) {
      writing = false;
      if (failure == null) {
        deliveredNanos = System.nanoTime();
        state = state == State.WRITING ? State.DELIVERED : state;
      } else {
        deliveryFailure = failure;
        state = state == State.WRITING ? State.UNDELIVERABLE : state;
      }
      // The client's thread need not wake for a delivery; it reads deliveredNanos when it wakes.
      if (failure != null || clientWaitsForHold) {
        notifyAll();
      }
      if (failure != null && response == null && waiter != null) {
        toFail = waiter.relay;
        waiter = null;
      }
    }
    if (toFail != null) {
      toFail.onFailure(failure);
    }
  }

  /**
   * DELIVERED (or PENDING) → PENDING: the agent never had the request after all.
   *
   * @return false, changing nothing, in any other state: it is being written, answered, failed or closed
   */
  synchronized boolean backToPending() {
    if (state != State.DELIVERED && state != State.PENDING) {
      return false;
    }
    state = State.PENDING;
    deliveredNanos = 0;
    return true;
  }

  /** WRITING or DELIVERED: the states in which a response is taken. */
  private boolean takesResponse() {
    return state == State.WRITING || state == State.DELIVERED;
  }

  /**
   * The agent's response → RESPONDED, or RELAYING when the client waits with a handler, which then
   * runs on this thread; otherwise the client's thread reads {@code stream}, while this one waits for
   * it to finish. Returns once the response has been relayed or refused.
   */
  ResponseOutcome respond(InputStream stream) throws IOException {
    Handoff handoff = new Handoff(stream, false);
    ResponseHandler<?> relay;
    boolean toWaiter;
    synchronized (this) {
      if (!takesResponse()) {
        return ResponseOutcome.NO_WAITING_CLIENT;
      }
      response = handoff;
      relay = handler;
      toWaiter = waiter != null;
      state = relay != null && !toWaiter ? State.RELAYING : State.RESPONDED;
      if (relay == null && !toWaiter) {
        notifyAll();
      }
    }
    if (toWaiter) {
      // The client waits without a thread: relay on this one, which may wait for the client.
      relayForWaiter();
    } else if (relay != null) {
      // The client's thread waits for us: relay on this thread, then wake it once, at the end.
      relayed(HandlerResult.run(relay, handoff));
    } else {
      // The client's thread reads our stream now; it always reports back, if only through clientGone().
      return handoff.awaitOutcome();
    }
    handoff.outcome.complete(ResponseOutcome.CLIENT_GONE); // if the relay did not say
    return handoff.outcome.join();
  }

  /**
   * A whole response (from a channel) → RESPONDED; a thread-less waiter has it relayed on this
   * thread, by a write that does not wait; a waiting client's thread relays it itself.
   *
   * @return false, changing nothing, unless WRITING or DELIVERED
   */
  boolean respondWhole(byte[] bytes) {
    synchronized (this) {
      if (!takesResponse()) {
        return false;
      }
      response = new Handoff(new ByteArrayInputStream(bytes), true);
      state = State.RESPONDED;
      if (waiter == null) {
        notifyAll();
        return true;
      }
    }
    relayForWaiter();
    return true;
  }

  /** RESPONDED → RELAYING → RELAYED: runs the thread-less waiter on the response, unless its wait ended first. */
  private void relayForWaiter() {
    ResponseWaiter relay;
    Handoff handoff;
    synchronized (this) {
      if (waiter == null) {
        return;
      }
      relay = waiter.relay;
      waiter = null;
      handoff = response;
      state = state == State.CLOSED ? State.CLOSED : State.RELAYING;
    }
    try {
      relay.onResponse(handoff);
    } finally {
      relayed(HandlerResult.NONE);
    }
  }

  /** RELAYING → RELAYED, waking the client's thread. Stays CLOSED when the client left meanwhile. */
  private synchronized void relayed(HandlerResult result) {
    relayResult = result;
    state = state == State.RELAYING ? State.RELAYED : state;
    notifyAll();
  }

  // ---- The client's side.

  /**
   * The client's wait, on its thread. With {@code relay}, the responding thread may run it: then this
   * returns empty once it has, in RELAYED. Otherwise returns the response to relay here, or empty
   * when none began within {@code maxWait} of the agent having the whole request (→ CLOSED). Never
   * returns while a hold is on, even past its time or when interrupted.
   */
  synchronized Optional<AgentResponse> await(Duration maxWait, ResponseHandler<?> relay)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    boolean interrupted = false;
    handler = relay;
    try {
      while (true) {
        if (writing || state == State.RELAYING) {
          clientWaitsForHold = true;
          try {
            wait();
          } catch (InterruptedException e) {
            interrupted = true;
          }
          continue;
        }
        if (state == State.RELAYED || deliveryFailure != null || response != null) {
          if (interrupted) {
            Thread.currentThread().interrupt();
          }
          if (state == State.RELAYED) {
            return Optional.empty();
          }
          if (deliveryFailure != null) {
            throw deliveryFailure;
          }
          return Optional.of(response);
        }
        if (interrupted) {
          state = State.CLOSED;
          throw new InterruptedException("interrupted while waiting for the response to request " + id);
        }
        long deadline = (deliveredNanos != 0 ? deliveredNanos : start) + maxWait.toNanos();
        long remaining = deadline - System.nanoTime();
        if (state == State.CLOSED || remaining <= 0) {
          state = State.CLOSED;
          return Optional.empty();
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(this, remaining);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      // From here on this thread relays itself, or nobody does.
      handler = null;
    }
  }

  /**
   * Waits as {@link #await} with {@code relay}, and returns what it gave wherever it ran, or throws
   * what it threw.
   */
  <T> Optional<T> awaitRelayed(Duration maxWait, ResponseHandler<T> relay) throws IOException, InterruptedException {
    Optional<AgentResponse> ready = await(maxWait, relay);
    HandlerResult result;
    synchronized (this) {
      result = state == State.RELAYED ? relayResult : null;
    }
    if (result == null) {
      // No response in time, or it came before the handler was registered: then relay it here.
      return ready.isEmpty() ? Optional.empty() : Optional.of(relay.handle(ready.get()));
    }
    return Optional.of(result.<T>get(id));
  }

  /**
   * Registers the client's thread-less {@code relay}; a response already there is relayed on this
   * thread, and one still to come on the thread that brings it.
   *
   * @throws IllegalStateException when the client waits already
   */
  void awaitWithoutThread(Duration maxWait, ResponseWaiter relay) {
    IOException failure;
    boolean closed;
    synchronized (this) {
      if (waiter != null || handler != null) {
        throw new IllegalStateException("the client of request " + id + " waits already");
      }
      failure = deliveryFailure;
      closed = state == State.CLOSED;
      if (failure == null && !closed) {
        waiter = new ThreadlessWait(relay, maxWait);
        if (response == null) {
          return;
        }
      }
    }
    if (failure != null) {
      relay.onFailure(failure);
    } else if (closed) {
      relay.onTimeout(); // the exchange ended before the wait began
    } else {
      relayForWaiter();
    }
  }

  /**
   * Any state → CLOSED: the client is done. A response it did not relay is told so
   * ({@link ResponseOutcome#CLIENT_GONE}).
   */
  synchronized void clientGone() {
    state = State.CLOSED;
    waiter = null;
    if (response != null) {
      response.finished(ResponseOutcome.CLIENT_GONE);
    }
    notifyAll();
  }

  /**
   * → CLOSED when the thread-less wait still waits for a response to begin and its time is up at
   * {@code now}, counted as by {@link #await}; never while the agent's thread writes the request.
   *
   * @return the waiter to tell, outside this lock; null when the wait goes on or there is none
   */
  synchronized ResponseWaiter endWaitIfDue(long now) {
    if (waiter == null || response != null || writing || !waiter.isDue(now, deliveredNanos)) {
      return null;
    }
    return endWait();
  }

  /**
   * → CLOSED when a thread-less wait still waits for a response to begin (the proxy stops).
   *
   * @return the waiter to tell, outside this lock; null when there is none
   */
  synchronized ResponseWaiter endWaitNow() {
    return waiter == null || response != null ? null : endWait();
  }

  private ResponseWaiter endWait() {
    ResponseWaiter ended = waiter.relay;
    waiter = null;
    state = State.CLOSED;
    return ended;
  }
}
