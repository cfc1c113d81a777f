package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.RequestIds;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.ResponseHandler;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import io.github.invertingproxy.core.spi.ResponseWaiter;
import io.github.invertingproxy.core.spi.TakenRequest;
import io.github.invertingproxy.protocol.ChannelFrame;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Predicate;
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
 * <p>An id listed to a poll is leased to it for {@code lease}; if its agent does not take it in that
 * time (it died, or its poll's answer was lost), the id is listed again, to any agent of the backend.
 *
 * <p>Lease expiries and poll timeouts are found by one sweep every {@value #SWEEP_MILLIS} ms rather
 * than by a timer task per lease and per poll: scheduling such a task wakes the timer thread whenever
 * it becomes the earliest, which cost more than one thread switch per exchange.
 */
public final class InMemoryExchangeStore implements ExchangeStore, AutoCloseable {
  /** The original agent reads at most 1 MB of ids; 100 ids keep each poll answer small. */
  static final int MAX_IDS_PER_POLL = 100;

  private final Map<String, Exchange> exchanges = new ConcurrentHashMap<>();
  private final Map<String, Backlog> backlogs = new ConcurrentHashMap<>();
  private final LongAdder sentOverChannels = new LongAdder();
  private static final Logger LOG = Logger.getLogger(InMemoryExchangeStore.class.getName());
  /** How often lease expiries and poll timeouts are looked for; they fire up to this much late. */
  static final long SWEEP_MILLIS = 50;

  private final ScheduledThreadPoolExecutor timer;
  private final Duration lease;

  public InMemoryExchangeStore(Duration lease) {
    this.lease = requireNonNull(lease, "lease");
    this.timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "exchange-timer");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    timer.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
  }

  public InMemoryExchangeStore() {
    this(Duration.ofSeconds(5));
  }

  private enum State { QUEUED, LEASED, TAKEN, FINISHED }

  private static final class Exchange {
    final String id;
    final String backendId;
    final ExchangeRequest request;
    // Guarded by the backlog's lock.
    State state = State.QUEUED;
    /** While LEASED: when the lease ends (System.nanoTime). */
    long leaseDeadline;
    // Guarded by this.
    /** An agent took the request and is writing it, or has written it. */
    boolean taken;
    /** The agent's thread is reading the client's request body: the client's call must not end yet. */
    boolean writing;
    /** When the agent had the whole request (System.nanoTime), or 0. */
    long deliveredNanos;
    IOException deliveryFailure;
    /** The client's thread waits for the writer to finish (and must be woken when it does). */
    boolean clientWaitsForWriter;
    Handoff response;
    /** The client's thread waits for the agent's thread to run this on the response. */
    ResponseHandler<?> handler;
    /** The client waits without a thread (instead of {@link #handler}); taken by whoever ends the wait. */
    ResponseWaiter waiter;
    /** When {@link #waiter} began to wait (System.nanoTime), and for how long it may. */
    long waitStartNanos;
    long maxWaitNanos;
    /** The agent's thread runs {@link #handler}: the client's call must not end yet. */
    boolean relaying;
    /** The agent's thread ran the handler; its result or what it threw. */
    boolean relayed;
    Object relayResult;
    Throwable relayFailure;
    boolean closed;

    Exchange(String id, String backendId, ExchangeRequest request) {
      this.id = id;
      this.backendId = backendId;
      this.request = request;
    }
  }

  private static final class Backlog {
    final ArrayDeque<Exchange> queued = new ArrayDeque<>();
    final ArrayDeque<CompletableFuture<List<String>>> polls = new ArrayDeque<>();
    final List<Channel> channels = new ArrayList<>();
    int nextChannel;
  }

  /**
   * An agent's {@code agent/channel} (docs/protocol.md, "Channel extension"). While one is attached
   * for a backend, the store sends that backend's small requests ({@link ExchangeRequest#bufferable})
   * to it at once, in turn when there are several, instead of queueing them for a poll.
   */
  public interface Channel {
    /**
     * Sends the request {@code requestId}, already taken, by writing {@code request} (on the client's
     * thread). Returns false, without writing, when the channel has closed: the request then waits for
     * a poll instead.
     */
    boolean send(String requestId, ExchangeRequest request);
  }

  /** A held {@code agent/pending} poll; the sweep answers it with no ids once its deadline passes. */
  private static final class Poll extends CompletableFuture<List<String>> {
    final long deadline;

    Poll(long deadline) {
      this.deadline = deadline;
    }
  }

  private static final class Handoff implements AgentResponse {
    final InputStream stream;
    final boolean whole;
    final CompletableFuture<ResponseOutcome> outcome = new CompletableFuture<>();

    Handoff(InputStream stream, boolean whole) {
      this.stream = stream;
      this.whole = whole;
    }

    @Override
    public boolean whole() {
      return whole;
    }

    @Override
    public InputStream stream() {
      return stream;
    }

    @Override
    public void finished(ResponseOutcome o) {
      outcome.complete(requireNonNull(o, "outcome"));
    }
  }

  @Override
  public String submit(String backendId, ExchangeRequest request) {
    requireNonNull(backendId, "backendId");
    requireNonNull(request, "request");
    String id = RequestIds.next();
    Exchange exchange = new Exchange(id, backendId, request);
    exchanges.put(id, exchange);
    Backlog backlog = backlogs.computeIfAbsent(backendId, k -> new Backlog());
    List<Runnable> deliveries = List.of();
    Channel channel = null;
    synchronized (backlog) {
      if (!backlog.channels.isEmpty() && request.bufferable(ChannelFrame.MAX_BODY_BYTES)) {
        backlog.nextChannel = (backlog.nextChannel + 1) % backlog.channels.size();
        channel = backlog.channels.get(backlog.nextChannel);
        exchange.state = State.TAKEN;
      } else {
        deliveries = queue(backlog, exchange, false);
      }
    }
    if (channel != null) {
      if (channel.send(id, delivery(exchange))) {
        sentOverChannels.increment();
      } else {
        deliveries = queue(backlog, exchange, false);
      }
    }
    deliveries.forEach(Runnable::run);
    return id;
  }

  /** From now on, small requests for {@code backendId} go to {@code channel} (in turn with others). */
  public void attachChannel(String backendId, Channel channel) {
    requireNonNull(channel, "channel");
    Backlog backlog = backlogs.computeIfAbsent(requireNonNull(backendId, "backendId"), k -> new Backlog());
    synchronized (backlog) {
      backlog.channels.add(channel);
    }
  }

  /** {@code channel} closed: no more requests go to it. Requests it took wait for their responses still. */
  public void detachChannel(String backendId, Channel channel) {
    Backlog backlog = backlogs.get(backendId);
    if (backlog != null) {
      synchronized (backlog) {
        backlog.channels.remove(channel);
      }
    }
  }

  /** Requests sent over channels so far; for tests and metrics. */
  public long sentOverChannels() {
    return sentOverChannels.sum();
  }

  /** Channels attached for {@code backendId}; for tests and metrics. */
  public int channelCount(String backendId) {
    Backlog backlog = backlogs.get(backendId);
    if (backlog == null) {
      return 0;
    }
    synchronized (backlog) {
      return backlog.channels.size();
    }
  }

  /**
   * Hands a complete response that came over a channel (HTTP/1.1 wire format) to the waiting
   * client. Unlike {@link #respond}, never waits: a channel's reader must not stall behind one slow
   * client. A client waiting with a thread relays the response on it; one waiting without
   * ({@link #awaitResponseAsync}) has it relayed here, by a write that does not wait.
   *
   * @return false when no client waits for it (unknown, another backend's, not taken, or answered)
   */
  public boolean deliver(String backendId, String requestId, byte[] response) {
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null || !exchange.backendId.equals(backendId)) {
      return false;
    }
    synchronized (exchange) {
      if (exchange.closed || exchange.response != null || !exchange.taken || exchange.deliveryFailure != null) {
        return false;
      }
      exchange.response = new Handoff(new ByteArrayInputStream(response), true);
      if (exchange.waiter == null) {
        exchange.notifyAll();
        return true;
      }
    }
    relayForWaiter(exchange);
    return true;
  }

  /**
   * Runs the waiter of {@code exchange} on its response, on this thread, unless something else ended
   * the wait first.
   */
  private static void relayForWaiter(Exchange exchange) {
    ResponseWaiter waiter;
    synchronized (exchange) {
      waiter = exchange.waiter;
      if (waiter == null) {
        return;
      }
      exchange.waiter = null;
      exchange.relaying = true;
    }
    try {
      waiter.onResponse(exchange.response);
    } finally {
      synchronized (exchange) {
        exchange.relaying = false;
        exchange.relayed = true;
        exchange.notifyAll();
      }
    }
  }

  /**
   * The channel that took {@code requestId} could not write it whole (it closed or broke first), so
   * its agent never had it: it waits for a poll or another channel again. Harmless once a response
   * began or the client left.
   */
  public void requeue(String requestId) {
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null) {
      return;
    }
    synchronized (exchange) {
      if (exchange.response != null || exchange.closed || exchange.writing) {
        return;
      }
      exchange.taken = false;
      exchange.deliveredNanos = 0;
    }
    Backlog backlog = backlogs.get(exchange.backendId);
    List<Runnable> deliveries;
    synchronized (backlog) {
      if (exchange.state != State.TAKEN) {
        return;
      }
      deliveries = queue(backlog, exchange, true);
    }
    deliveries.forEach(Runnable::run);
  }

  @Override
  public CompletableFuture<List<String>> awaitPending(String backendId, Duration maxWait) {
    Backlog backlog = backlogs.computeIfAbsent(backendId, k -> new Backlog());
    Poll poll = new Poll(System.nanoTime() + maxWait.toNanos());
    synchronized (backlog) {
      List<String> ids = leaseQueued(backlog);
      if (!ids.isEmpty()) {
        return CompletableFuture.completedFuture(ids);
      }
      backlog.polls.add(poll);
    }
    poll.whenComplete((ids, failure) -> {
      synchronized (backlog) {
        backlog.polls.remove(poll);
      }
    });
    return poll;
  }

  @Override
  public Optional<ExchangeRequest> take(String backendId, String requestId) {
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null || !exchange.backendId.equals(backendId)) {
      return Optional.empty();
    }
    Backlog backlog = backlogs.get(backendId);
    synchronized (backlog) {
      if (exchange.state != State.QUEUED && exchange.state != State.LEASED) {
        return Optional.empty();
      }
      backlog.queued.remove(exchange);
      exchange.state = State.TAKEN;
    }
    return Optional.of(delivery(exchange));
  }

  @Override
  public Optional<TakenRequest> takeNext(String backendId) {
    Backlog backlog = backlogs.get(backendId);
    if (backlog == null) {
      return Optional.empty();
    }
    Exchange next = null;
    synchronized (backlog) {
      // Only queued requests: a leased one has been listed to a poll, whose agent will ask for it.
      while (next == null && !backlog.queued.isEmpty()) {
        Exchange e = backlog.queued.poll();
        if (e.state == State.QUEUED) {
          e.state = State.TAKEN;
          next = e;
        }
      }
    }
    return next == null ? Optional.empty() : Optional.of(new TakenRequest(next.id, delivery(next)));
  }

  /** The taken request of {@code exchange}, which its agent's thread writes (see the class comment). */
  private static ExchangeRequest delivery(Exchange exchange) {
    String requestId = exchange.id;
    return new ExchangeRequest() {
      @Override
      public String user() {
        return exchange.request.user();
      }

      @Override
      public Instant startTime() {
        return exchange.request.startTime();
      }

      @Override
      public String method() {
        return exchange.request.method();
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        synchronized (exchange) {
          if (exchange.closed || exchange.taken) {
            throw new IOException("the client of request " + requestId + " went away");
          }
          exchange.taken = true;
          exchange.writing = true;
        }
        IOException failure = null;
        ResponseWaiter waiter = null;
        try {
          exchange.request.writeTo(out);
        } catch (IOException | RuntimeException e) {
          failure = new IOException("the request could not be delivered to the agent: " + e.getMessage(), e);
          throw e;
        } finally {
          synchronized (exchange) {
            exchange.writing = false;
            if (failure == null) {
              exchange.deliveredNanos = System.nanoTime();
            } else {
              exchange.deliveryFailure = failure;
            }
            // The client's thread need not wake for a delivery; it reads deliveredNanos when it wakes.
            if (failure != null || exchange.clientWaitsForWriter) {
              exchange.notifyAll();
            }
            if (failure != null && exchange.response == null) {
              waiter = exchange.waiter;
              exchange.waiter = null;
            }
          }
          if (waiter != null) {
            waiter.onFailure(failure);
          }
        }
      }
    };
  }

  @Override
  public ResponseOutcome respond(String backendId, String requestId, InputStream response) throws IOException {
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null || !exchange.backendId.equals(backendId)) {
      return ResponseOutcome.NO_WAITING_CLIENT;
    }
    Handoff handoff = new Handoff(response, false);
    ResponseHandler<?> handler;
    boolean waiter;
    synchronized (exchange) {
      if (exchange.closed || exchange.response != null || !exchange.taken) {
        return ResponseOutcome.NO_WAITING_CLIENT;
      }
      exchange.response = handoff;
      handler = exchange.handler;
      waiter = exchange.waiter != null;
      exchange.relaying = handler != null;
      if (handler == null && !waiter) {
        exchange.notifyAll();
      }
    }
    if (waiter) {
      // The client waits without a thread: relay on this one, which may wait for the client.
      relayForWaiter(exchange);
      handoff.outcome.complete(ResponseOutcome.CLIENT_GONE); // if the waiter did not say
      return handoff.outcome.join();
    }
    if (handler != null) {
      // The client's thread waits for us: relay on this thread, then wake it once, at the end.
      Object result = null;
      Throwable failure = null;
      try {
        result = handler.handle(handoff);
      } catch (Throwable t) {
        failure = t;
      }
      synchronized (exchange) {
        exchange.relaying = false;
        exchange.relayed = true;
        exchange.relayResult = result;
        exchange.relayFailure = failure;
        exchange.notifyAll();
      }
      handoff.outcome.complete(ResponseOutcome.CLIENT_GONE); // if the handler did not say
      return handoff.outcome.join();
    }
    // The client's thread reads our stream now; it always reports back, if only through finish().
    try {
      return handoff.outcome.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ResponseOutcome.CLIENT_GONE;
    } catch (ExecutionException e) {
      throw new IOException("relaying the response failed", e.getCause());
    }
  }

  @Override
  public Optional<AgentResponse> awaitResponse(String requestId, Duration maxWait)
      throws IOException, InterruptedException {
    Exchange exchange = exchanges.get(requestId);
    return exchange == null ? Optional.empty() : await(exchange, maxWait, null);
  }

  /**
   * Relays on the agent's thread when the response comes after this call began (the usual case):
   * the agent's {@code agent/response} thread then writes the client's response while this thread
   * waits, and wakes this one once at the end, instead of handing the stream over and waiting for
   * this thread to finish with it.
   */
  @Override
  @SuppressWarnings("unchecked")
  public <T> Optional<T> awaitResponse(String requestId, Duration maxWait, ResponseHandler<T> handler)
      throws IOException, InterruptedException {
    requireNonNull(handler, "handler");
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null) {
      return Optional.empty();
    }
    Optional<AgentResponse> response = await(exchange, maxWait, handler);
    boolean relayed;
    Throwable failure;
    Object result;
    synchronized (exchange) {
      relayed = exchange.relayed;
      failure = exchange.relayFailure;
      result = exchange.relayResult;
    }
    if (!relayed) {
      // No response in time, or it came before the handler was registered: then relay it here.
      return response.isEmpty() ? Optional.empty() : Optional.of(handler.handle(response.get()));
    }
    if (failure instanceof IOException e) {
      throw e;
    } else if (failure instanceof RuntimeException e) {
      throw e;
    } else if (failure instanceof Error e) {
      throw e;
    } else if (failure != null) {
      throw new IOException("relaying the response of request " + requestId + " failed", failure);
    }
    return Optional.of((T) result);
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
    IOException failure;
    synchronized (exchange) {
      if (exchange.waiter != null || exchange.handler != null) {
        throw new IllegalStateException("the client of request " + requestId + " waits already");
      }
      failure = exchange.deliveryFailure;
      if (failure == null && !exchange.closed) {
        exchange.waiter = waiter;
        exchange.waitStartNanos = System.nanoTime();
        exchange.maxWaitNanos = maxWait.toNanos();
        if (exchange.response == null) {
          return;
        }
      }
    }
    if (failure != null) {
      waiter.onFailure(failure);
    } else if (exchange.closed) {
      waiter.onTimeout(); // the exchange ended before the wait began
    } else {
      relayForWaiter(exchange);
    }
  }

  /**
   * The client's wait. With {@code handler}, the agent's thread may run it: then this returns (empty)
   * once it has, and {@link Exchange#relayed} says so. Otherwise returns the response to relay here,
   * or empty when none began in time.
   */
  private Optional<AgentResponse> await(Exchange exchange, Duration maxWait, ResponseHandler<?> handler)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    boolean interrupted = false;
    synchronized (exchange) {
      exchange.handler = handler;
      try {
        while (true) {
          // Never leave while the agent's thread reads this client's request body or writes its response.
          if (exchange.writing || exchange.relaying) {
            exchange.clientWaitsForWriter = true;
            try {
              exchange.wait();
            } catch (InterruptedException e) {
              interrupted = true;
            }
            continue;
          }
          if (exchange.relayed || exchange.deliveryFailure != null || exchange.response != null) {
            if (interrupted) {
              Thread.currentThread().interrupt();
            }
            if (exchange.relayed) {
              return Optional.empty();
            }
            if (exchange.deliveryFailure != null) {
              throw exchange.deliveryFailure;
            }
            return Optional.of(exchange.response);
          }
          if (interrupted) {
            exchange.closed = true;
            throw new InterruptedException("interrupted while waiting for the response to request " + exchange.id);
          }
          // The wait for the response starts once the agent has the whole request.
          long deadline = (exchange.deliveredNanos != 0 ? exchange.deliveredNanos : start) + maxWait.toNanos();
          long remaining = deadline - System.nanoTime();
          if (exchange.closed || remaining <= 0) {
            exchange.closed = true;
            return Optional.empty();
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(exchange, remaining);
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      } finally {
        // From here on this thread relays itself, or nobody does.
        exchange.handler = null;
      }
    }
  }

  @Override
  public void finish(String requestId) {
    Exchange exchange = exchanges.remove(requestId);
    if (exchange == null) {
      return;
    }
    Backlog backlog = backlogs.get(exchange.backendId);
    synchronized (backlog) {
      backlog.queued.remove(exchange);
      exchange.state = State.FINISHED;
    }
    synchronized (exchange) {
      exchange.closed = true;
      exchange.waiter = null;
      if (exchange.response != null) {
        exchange.response.finished(ResponseOutcome.CLIENT_GONE);
      }
      exchange.notifyAll();
    }
  }

  /** Agent connections open now for {@code backendId}: its held polls and its channels. */
  public int agentConnections(String backendId) {
    Backlog backlog = backlogs.get(backendId);
    if (backlog == null) {
      return 0;
    }
    synchronized (backlog) {
      return backlog.polls.size() + backlog.channels.size();
    }
  }

  /** Exchanges not yet finished, counted by backend id in one pass; backends without any are absent. */
  public Map<String, Integer> unfinishedByBackend() {
    Map<String, Integer> counts = new HashMap<>();
    for (Exchange e : exchanges.values()) {
      counts.merge(e.backendId, 1, Integer::sum);
    }
    return counts;
  }

  /** Number of exchanges not yet finished; for tests and metrics. */
  public int size() {
    return exchanges.size();
  }

  /**
   * Ends every thread-less wait ({@link ResponseWaiter#onShutdown}), before the server stops: its
   * clients are answered rather than cut off. Clients waiting with a thread end as their threads do.
   */
  public void endWaits() {
    for (Exchange e : exchanges.values()) {
      endWait(e, x -> true, ResponseWaiter::onShutdown, "answering at shutdown");
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  /**
   * Queues {@code exchange} for the polls, at the front when it has waited before, and pairs the queue
   * with waiting polls; returns the completions to run outside the lock.
   */
  private List<Runnable> queue(Backlog backlog, Exchange exchange, boolean atFront) {
    synchronized (backlog) {
      exchange.state = State.QUEUED;
      if (atFront) {
        backlog.queued.addFirst(exchange);
      } else {
        backlog.queued.add(exchange);
      }
      return dispatch(backlog);
    }
  }

  /** Pairs queued requests with waiting polls; returns the completions to run outside the lock. */
  private List<Runnable> dispatch(Backlog backlog) {
    List<Runnable> deliveries = new ArrayList<>();
    while (!backlog.queued.isEmpty() && !backlog.polls.isEmpty()) {
      CompletableFuture<List<String>> poll = backlog.polls.poll();
      if (poll.isDone()) {
        continue;
      }
      List<String> ids = leaseQueued(backlog);
      deliveries.add(() -> {
        if (!poll.complete(ids)) {
          // The poll ended before it got these ids; the leases bring them back soon.
          relist(backlog, ids);
        }
      });
    }
    return deliveries;
  }

  private void relist(Backlog backlog, List<String> ids) {
    List<Runnable> deliveries;
    synchronized (backlog) {
      for (String id : ids) {
        Exchange e = exchanges.get(id);
        if (e != null && e.state == State.LEASED) {
          e.state = State.QUEUED;
          backlog.queued.addFirst(e);
        }
      }
      deliveries = dispatch(backlog);
    }
    deliveries.forEach(Runnable::run);
  }

  private List<String> leaseQueued(Backlog backlog) {
    List<String> ids = new ArrayList<>();
    for (Iterator<Exchange> it = backlog.queued.iterator(); it.hasNext() && ids.size() < MAX_IDS_PER_POLL; ) {
      Exchange e = it.next();
      it.remove();
      if (e.state != State.QUEUED) {
        continue;
      }
      e.state = State.LEASED;
      e.leaseDeadline = System.nanoTime() + lease.toNanos();
      ids.add(e.id);
    }
    return ids;
  }

  /** Ends the polls and leases whose time is up. */
  private void sweep() {
    long now = System.nanoTime();
    try {
      for (Exchange e : exchanges.values()) {
        expireLease(backlogs.get(e.backendId), e, now); // checks the state under the backlog's lock
        expireWait(e, now);
      }
      for (Backlog backlog : backlogs.values()) {
        List<Poll> expired = new ArrayList<>();
        synchronized (backlog) {
          for (CompletableFuture<List<String>> poll : backlog.polls) {
            if (poll instanceof Poll p && now - p.deadline >= 0) {
              expired.add(p);
            }
          }
        }
        // Outside the lock: completing a poll runs its answer.
        expired.forEach(p -> p.complete(List.of()));
      }
    } catch (RuntimeException e) {
      // Never let one bad sweep stop the next ones.
      LOG.log(Level.WARNING, "sweeping expired leases and polls failed", e);
    }
  }

  /** Ends the thread-less wait of {@code e} once its time is up, as {@link #await} does for a thread's. */
  private static void expireWait(Exchange e, long now) {
    // Never while the agent's thread still writes the request: the wait starts when it is done.
    endWait(e, x -> !x.writing
        && now - ((x.deliveredNanos != 0 ? x.deliveredNanos : x.waitStartNanos) + x.maxWaitNanos) >= 0,
        ResponseWaiter::onTimeout, "answering a timed-out wait for");
  }

  /**
   * Ends the thread-less wait of {@code e}, when it still waits for a response to begin and
   * {@code due} (asked under its lock) says so, by giving its waiter to {@code answer}; the exchange
   * then takes no response any more.
   */
  private static void endWait(Exchange e, Predicate<Exchange> due, Consumer<ResponseWaiter> answer, String what) {
    ResponseWaiter waiter;
    synchronized (e) {
      if (e.waiter == null || e.response != null || !due.test(e)) {
        return;
      }
      waiter = e.waiter;
      e.waiter = null;
      e.closed = true;
    }
    try {
      answer.accept(waiter);
    } catch (RuntimeException x) {
      LOG.log(Level.WARNING, what + " request " + e.id + " failed", x);
    }
  }

  private void expireLease(Backlog backlog, Exchange e, long now) {
    List<Runnable> deliveries;
    synchronized (backlog) {
      if (e.state != State.LEASED || now - e.leaseDeadline < 0) {
        return;
      }
      deliveries = queue(backlog, e, true);
    }
    deliveries.forEach(Runnable::run);
  }
}
