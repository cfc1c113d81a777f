package io.github.invertingproxy.core.memory;

import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.protocol.ChannelFrame;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One backend's requests on their way to its agents: queued for polls, listed (leased) to one, or
 * sent over a channel. Everything here is under this queue's lock; polls are completed outside it,
 * since completing one runs its answer.
 *
 * <p>An id listed to a poll is leased to it for {@code lease}; if its agent does not take it in that
 * time (it died, or its poll's answer was lost), the id is listed again, to any agent of the backend.
 */
final class PendingQueue {
  /** The original agent reads at most 1 MB of ids; 100 ids keep each poll answer small. */
  static final int MAX_IDS_PER_POLL = 100;

  /** Where an exchange is in its backend's queue ({@link Exchange#place}). */
  enum Place { QUEUED, LEASED, TAKEN, FINISHED }

  private final ArrayDeque<Exchange> queued = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<List<String>>> polls = new ArrayDeque<>();
  private final List<ChannelDelivery.Channel> channels = new ArrayList<>();
  private int nextChannel;
  private final long leaseNanos;
  /** The store's exchanges by id, to find those a poll could not take. */
  private final Function<String, Exchange> exchanges;

  PendingQueue(Duration lease, Function<String, Exchange> exchanges) {
    this.leaseNanos = lease.toNanos();
    this.exchanges = exchanges;
  }

  /** A held {@code agent/pending} poll; {@link #expirePolls} answers it with no ids once its deadline passes. */
  private static final class Poll extends CompletableFuture<List<String>> {
    final long deadline;

    Poll(long deadline) {
      this.deadline = deadline;
    }
  }

  /**
   * A new exchange: taken for a channel when one is attached and the request is small (the caller
   * sends it), else queued for the polls.
   *
   * @return the channel to send it to, or null when it was queued
   */
  ChannelDelivery.Channel admit(Exchange exchange) {
    List<Runnable> answers;
    synchronized (this) {
      if (!channels.isEmpty() && exchange.request.bufferable(ChannelFrame.MAX_BODY_BYTES)) {
        nextChannel = (nextChannel + 1) % channels.size();
        exchange.place = Place.TAKEN;
        return channels.get(nextChannel);
      }
      answers = queue(exchange, false);
    }
    answers.forEach(Runnable::run);
    return null;
  }

  /** Queues an exchange that a channel refused, behind those already waiting. */
  void queueRefused(Exchange exchange) {
    List<Runnable> answers;
    synchronized (this) {
      answers = queue(exchange, false);
    }
    answers.forEach(Runnable::run);
  }

  /** A taken exchange whose agent never had it goes back to the front of the queue. */
  void requeueTaken(Exchange exchange) {
    List<Runnable> answers;
    synchronized (this) {
      if (exchange.place != Place.TAKEN) {
        return;
      }
      answers = queue(exchange, true);
    }
    answers.forEach(Runnable::run);
  }

  synchronized void attach(ChannelDelivery.Channel channel) {
    channels.add(channel);
  }

  synchronized void detach(ChannelDelivery.Channel channel) {
    channels.remove(channel);
  }

  synchronized int channelCount() {
    return channels.size();
  }

  /** Agent connections open now: held polls and channels. */
  synchronized int agentConnections() {
    return polls.size() + channels.size();
  }

  /** The long poll: see {@link io.github.invertingproxy.core.spi.ExchangeStore#awaitPending}. */
  CompletableFuture<List<String>> awaitPending(Duration maxWait) {
    Poll poll = new Poll(System.nanoTime() + maxWait.toNanos());
    synchronized (this) {
      List<String> ids = leaseQueued();
      if (!ids.isEmpty()) {
        return CompletableFuture.completedFuture(ids);
      }
      polls.add(poll);
    }
    poll.whenComplete((ids, failure) -> {
      synchronized (this) {
        polls.remove(poll);
      }
    });
    return poll;
  }

  /** Takes a queued or listed exchange for its agent; false when it was taken already or finished. */
  synchronized boolean take(Exchange exchange) {
    if (exchange.place != Place.QUEUED && exchange.place != Place.LEASED) {
      return false;
    }
    queued.remove(exchange);
    exchange.place = Place.TAKEN;
    return true;
  }

  /** Takes the oldest queued exchange, or returns null when none is queued. */
  synchronized Exchange takeNext() {
    // Only queued requests: a leased one has been listed to a poll, whose agent will ask for it.
    while (!queued.isEmpty()) {
      Exchange e = queued.poll();
      if (e.place == Place.QUEUED) {
        e.place = Place.TAKEN;
        return e;
      }
    }
    return null;
  }

  /** The client is done: the exchange leaves the queue for good. */
  synchronized void remove(Exchange exchange) {
    queued.remove(exchange);
    exchange.place = Place.FINISHED;
  }

  /** Lists the exchange again when its lease has ended by {@code now}. */
  void expireLease(Exchange exchange, long now) {
    List<Runnable> answers;
    synchronized (this) {
      if (exchange.place != Place.LEASED || now - exchange.leaseDeadline < 0) {
        return;
      }
      answers = queue(exchange, true);
    }
    answers.forEach(Runnable::run);
  }

  /** Answers the polls whose time is up by {@code now} with no ids. */
  void expirePolls(long now) {
    List<Poll> expired = new ArrayList<>();
    synchronized (this) {
      for (CompletableFuture<List<String>> poll : polls) {
        if (poll instanceof Poll p && now - p.deadline >= 0) {
          expired.add(p);
        }
      }
    }
    // Outside the lock: completing a poll runs its answer.
    expired.forEach(p -> p.complete(List.of()));
  }

  /**
   * Queues {@code exchange} for the polls, at the front when it has waited before, and pairs the queue
   * with waiting polls; returns the completions to run outside the lock.
   */
  private List<Runnable> queue(Exchange exchange, boolean atFront) {
    exchange.place = Place.QUEUED;
    if (atFront) {
      queued.addFirst(exchange);
    } else {
      queued.add(exchange);
    }
    return dispatch();
  }

  /** Pairs queued requests with waiting polls; returns the completions to run outside the lock. */
  private List<Runnable> dispatch() {
    List<Runnable> answers = new ArrayList<>();
    while (!queued.isEmpty() && !polls.isEmpty()) {
      CompletableFuture<List<String>> poll = polls.poll();
      if (poll.isDone()) {
        continue;
      }
      List<String> ids = leaseQueued();
      answers.add(() -> {
        if (!poll.complete(ids)) {
          // The poll ended before it got these ids; the leases bring them back soon.
          relist(ids);
        }
      });
    }
    return answers;
  }

  private void relist(List<String> ids) {
    List<Runnable> answers;
    synchronized (this) {
      for (String id : ids) {
        Exchange e = exchanges.apply(id);
        if (e != null && e.place == Place.LEASED) {
          e.place = Place.QUEUED;
          queued.addFirst(e);
        }
      }
      answers = dispatch();
    }
    answers.forEach(Runnable::run);
  }

  private List<String> leaseQueued() {
    List<String> ids = new ArrayList<>();
    for (Iterator<Exchange> it = queued.iterator(); it.hasNext() && ids.size() < MAX_IDS_PER_POLL; ) {
      Exchange e = it.next();
      it.remove();
      if (e.place != Place.QUEUED) {
        continue;
      }
      e.place = Place.LEASED;
      e.leaseDeadline = System.nanoTime() + leaseNanos;
      ids.add(e.id);
    }
    return ids;
  }
}
