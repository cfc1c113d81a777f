package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.RequestIds;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.ResponseHandler;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.core.spi.ResponseWaiter;
import io.github.invertingproxy.core.spi.TakenRequest;
import io.github.invertingproxy.core.spi.ThreadlessWaits;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Exchanges in memory, handed directly between the client's and the agent's servlet threads: nothing
 * is buffered, polled, or capped in size.
 *
 * <p>Each stream is only ever touched while its own servlet call is still running, and the agent's
 * threads do the work while the client's thread waits: the agent's {@code agent/request} thread (or
 * the {@code agent/response} thread that takes the request with {@link #takeNext}) writes the
 * client's request, reading the client's body; the agent's {@code agent/response} thread relays the
 * response onto the client's response when the client waits with a handler. The client's thread
 * never returns while either is under way, so a container never recycles a stream that another
 * thread still uses. Doing the work on the agent's threads, rather than handing streams to the
 * client's thread and waiting for it, saves two thread hand-offs per direction. A client that waits
 * without a handler (a WebSocket upgrade) reads the response itself while the agent's thread waits.
 *
 * <p>A client may also wait without a thread ({@link #awaitResponseAsync}): the thread that brings
 * the response then relays it (a channel's reader, with a whole response, which it writes without
 * waiting), and the sweep below ends the waits that time out.
 *
 * <p>Each exchange keeps its own state ({@link Exchange}); each backend's queue, leases and channels
 * are its {@link PendingQueue}. This class finds them by id and backend and runs the sweep.
 *
 * <p>Lease expiries and poll timeouts are found by one sweep every {@value #SWEEP_MILLIS} ms rather
 * than by a timer task per lease and per poll: scheduling such a task wakes the timer thread whenever
 * it becomes the earliest, which cost more than one thread switch per exchange.
 */
public final class InMemoryExchangeStore implements ExchangeStore, ChannelDelivery, ThreadlessWaits, AutoCloseable {
  private final Map<String, Exchange> exchanges = new ConcurrentHashMap<>();
  private final Map<String, PendingQueue> queues = new ConcurrentHashMap<>();
  private final LongAdder sentOverChannels = new LongAdder();
  private static final Logger LOG = Logger.getLogger(InMemoryExchangeStore.class.getName());
  /** How often lease expiries and poll timeouts are looked for; they fire up to this much late. */
  static final long SWEEP_MILLIS = 50;

  private final ScheduledThreadPoolExecutor timer;
  /** Makes a backend's queue; one instance, so that finding a queue allocates nothing. */
  private final Function<String, PendingQueue> newQueue;

  public InMemoryExchangeStore(Duration lease) {
    requireNonNull(lease, "lease");
    this.newQueue = backendId -> new PendingQueue(lease, exchanges::get);
    this.timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "exchange-timer");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    timer.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
  }

  private PendingQueue queue(String backendId) {
    return queues.computeIfAbsent(backendId, newQueue);
  }

  /** The exchange {@code requestId} when it is {@code backendId}'s, else null. */
  private Exchange exchange(String backendId, String requestId) {
    Exchange exchange = exchanges.get(requestId);
    return exchange == null || !exchange.backendId.equals(backendId) ? null : exchange;
  }

  @Override
  public String submit(String backendId, ExchangeRequest request) {
    requireNonNull(backendId, "backendId");
    requireNonNull(request, "request");
    String id = RequestIds.next();
    Exchange exchange = new Exchange(id, backendId, request);
    exchanges.put(id, exchange);
    PendingQueue queue = queue(backendId);
    Channel channel = queue.admit(exchange);
    if (channel != null) {
      if (channel.send(id, exchange.delivery())) {
        sentOverChannels.increment();
      } else {
        queue.queueRefused(exchange);
      }
    }
    return id;
  }

  @Override
  public void attachChannel(String backendId, Channel channel) {
    requireNonNull(channel, "channel");
    queue(requireNonNull(backendId, "backendId")).attach(channel);
  }

  @Override
  public void detachChannel(String backendId, Channel channel) {
    PendingQueue queue = queues.get(backendId);
    if (queue != null) {
      queue.detach(channel);
    }
  }

  /**
   * Requests sent over channels so far. An observation point: from outside, the only sign of whether a
   * request went over a channel or to a poll.
   */
  public long sentOverChannels() {
    return sentOverChannels.sum();
  }

  /** Agent connections open now for {@code backendId}: its held polls and its channels. */
  public int agentConnections(String backendId) {
    PendingQueue queue = queues.get(backendId);
    return queue == null ? 0 : queue.agentConnections();
  }

  /** Exchanges not yet finished, counted by backend id in one pass; backends without any are absent. */
  public Map<String, Integer> unfinishedByBackend() {
    Map<String, Integer> counts = new HashMap<>();
    for (Exchange e : exchanges.values()) {
      counts.merge(e.backendId, 1, Integer::sum);
    }
    return counts;
  }

  /**
   * Channels attached for {@code backendId}. An observation point: from outside, the only sign that an
   * agent's channel is attached, or gone.
   */
  public int channelCount(String backendId) {
    PendingQueue queue = queues.get(backendId);
    return queue == null ? 0 : queue.channelCount();
  }

  /**
   * Unlike {@link #respond}, never waits: a client waiting with a thread relays the response on it;
   * one waiting without ({@link #awaitResponseAsync}) has it relayed here, by a write that does not wait.
   */
  @Override
  public boolean deliver(String backendId, String requestId, byte[] response) {
    Exchange exchange = exchange(backendId, requestId);
    return exchange != null && exchange.respondWhole(response);
  }

  @Override
  public void requeue(String requestId) {
    Exchange exchange = exchanges.get(requestId);
    if (exchange != null && exchange.backToPending()) {
      queues.get(exchange.backendId).requeueTaken(exchange);
    }
  }

  @Override
  public CompletableFuture<List<String>> awaitPending(String backendId, Duration maxWait) {
    return queue(backendId).awaitPending(maxWait);
  }

  @Override
  public Optional<ExchangeRequest> take(String backendId, String requestId) {
    Exchange exchange = exchange(backendId, requestId);
    if (exchange == null || !queues.get(backendId).take(exchange)) {
      return Optional.empty();
    }
    return Optional.of(exchange.delivery());
  }

  @Override
  public Optional<TakenRequest> takeNext(String backendId) {
    PendingQueue queue = queues.get(backendId);
    Exchange next = queue == null ? null : queue.takeNext();
    return next == null ? Optional.empty() : Optional.of(new TakenRequest(next.id, next.delivery()));
  }

  @Override
  public ResponseOutcome respond(String backendId, String requestId, InputStream response) throws IOException {
    Exchange exchange = exchange(backendId, requestId);
    return exchange == null ? ResponseOutcome.NO_WAITING_CLIENT : exchange.respond(response);
  }

  @Override
  public Optional<AgentResponse> awaitResponse(String requestId, Duration maxWait)
      throws IOException, InterruptedException {
    Exchange exchange = exchanges.get(requestId);
    return exchange == null ? Optional.empty() : exchange.await(maxWait, null);
  }

  /**
   * Relays on the agent's thread when the response comes after this call began (the usual case):
   * the agent's {@code agent/response} thread then writes the client's response while this thread
   * waits, and wakes this one once at the end, instead of handing the stream over and waiting for
   * this thread to finish with it.
   */
  @Override
  public <T> Optional<T> awaitResponse(String requestId, Duration maxWait, ResponseHandler<T> handler)
      throws IOException, InterruptedException {
    requireNonNull(handler, "handler");
    Exchange exchange = exchanges.get(requestId);
    return exchange == null ? Optional.empty() : exchange.awaitRelayed(maxWait, handler);
  }

  @Override
  public boolean awaitsAsynchronously() {
    return true;
  }

  /**
   * Registers {@code waiter}; a response already there is relayed on this thread, and one still to
   * come on the thread that brings it. The sweep ends the wait when it times out.
   */
  @Override
  public void awaitResponseAsync(String requestId, Duration maxWait, ResponseWaiter waiter) {
    requireNonNull(maxWait, "maxWait");
    requireNonNull(waiter, "waiter");
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null) {
      waiter.onTimeout();
      return;
    }
    exchange.awaitWithoutThread(maxWait, waiter);
  }

  @Override
  public void finish(String requestId) {
    Exchange exchange = exchanges.remove(requestId);
    if (exchange == null) {
      return;
    }
    queues.get(exchange.backendId).remove(exchange);
    exchange.clientGone();
  }

  /**
   * Number of exchanges not yet finished. An observation point: from outside, the only sign that a
   * request was never queued, or that none was left behind.
   */
  public int size() {
    return exchanges.size();
  }

  @Override
  public void endWaits() {
    for (Exchange e : exchanges.values()) {
      answer(e, e.endWaitNow(), ResponseWaiter::onShutdown, "answering at shutdown");
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  /** Ends the leases, thread-less waits and polls whose time is up. */
  private void sweep() {
    long now = System.nanoTime();
    try {
      for (Exchange e : exchanges.values()) {
        queues.get(e.backendId).expireLease(e, now);
        answer(e, e.endWaitIfDue(now), ResponseWaiter::onTimeout, "answering a timed-out wait for");
      }
      for (PendingQueue queue : queues.values()) {
        queue.expirePolls(now);
      }
    } catch (RuntimeException e) {
      // Never let one bad sweep stop the next ones.
      LOG.log(Level.WARNING, "sweeping expired leases and polls failed", e);
    }
  }

  /** Tells {@code waiter}, whose wait ended, how; one that throws does not stop the others. */
  private static void answer(Exchange e, ResponseWaiter waiter, Consumer<ResponseWaiter> how, String what) {
    if (waiter == null) {
      return;
    }
    try {
      how.accept(waiter);
    } catch (RuntimeException x) {
      LOG.log(Level.WARNING, what + " request " + e.id + " failed", x);
    }
  }
}
