package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.RequestIds;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.ResponseOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Exchanges in memory, handed directly between the client's and the agent's servlet threads: nothing
 * is buffered, polled, or capped in size.
 *
 * <p>Each stream is only ever touched while its own servlet call is still running: the client's
 * thread writes the request into the agent's {@code agent/request} response while the agent's thread
 * waits, and reads the agent's {@code agent/response} body while the agent's thread waits. So a
 * container never recycles a stream that another thread still uses.
 *
 * <p>An id listed to a poll is leased to it for {@code lease}; if its agent does not take it in that
 * time (it died, or its poll's answer was lost), the id is listed again, to any agent of the backend.
 */
public final class InMemoryExchangeStore implements ExchangeStore, AutoCloseable {
  /** The original agent reads at most 1 MB of ids; 100 ids keep each poll answer small. */
  static final int MAX_IDS_PER_POLL = 100;

  private final Map<String, Exchange> exchanges = new ConcurrentHashMap<>();
  private final Map<String, Backlog> backlogs = new ConcurrentHashMap<>();
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
    ScheduledFuture<?> leaseExpiry;
    // Guarded by this.
    Pump pump;
    boolean pumpServed;
    Handoff response;
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
  }

  /** The agent's request to have the client's request written to {@code out}. */
  private static final class Pump {
    final OutputStream out;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Pump(OutputStream out) {
      this.out = out;
    }
  }

  private static final class Handoff implements AgentResponse {
    final InputStream stream;
    final CompletableFuture<ResponseOutcome> outcome = new CompletableFuture<>();

    Handoff(InputStream stream) {
      this.stream = stream;
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
    List<Runnable> deliveries;
    synchronized (backlog) {
      backlog.queued.add(exchange);
      deliveries = dispatch(backlog);
    }
    deliveries.forEach(Runnable::run);
    return id;
  }

  @Override
  public CompletableFuture<List<String>> awaitPending(String backendId, Duration maxWait) {
    Backlog backlog = backlogs.computeIfAbsent(backendId, k -> new Backlog());
    CompletableFuture<List<String>> poll = new CompletableFuture<>();
    synchronized (backlog) {
      List<String> ids = leaseQueued(backlog);
      if (!ids.isEmpty()) {
        return CompletableFuture.completedFuture(ids);
      }
      backlog.polls.add(poll);
    }
    ScheduledFuture<?> timeout = timer.schedule(() -> poll.complete(List.of()), maxWait.toMillis(), TimeUnit.MILLISECONDS);
    poll.whenComplete((ids, failure) -> {
      timeout.cancel(false);
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
      if (exchange.leaseExpiry != null) {
        exchange.leaseExpiry.cancel(false);
      }
      exchange.state = State.TAKEN;
    }
    return Optional.of(new ExchangeRequest() {
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
        Pump pump = new Pump(out);
        synchronized (exchange) {
          if (exchange.closed) {
            throw new IOException("the client of request " + requestId + " went away");
          }
          exchange.pump = pump;
          exchange.notifyAll();
        }
        await(pump.done);
      }
    });
  }

  @Override
  public ResponseOutcome respond(String backendId, String requestId, InputStream response) throws IOException {
    Exchange exchange = exchanges.get(requestId);
    if (exchange == null || !exchange.backendId.equals(backendId)) {
      return ResponseOutcome.NO_WAITING_CLIENT;
    }
    Handoff handoff = new Handoff(response);
    synchronized (exchange) {
      if (exchange.closed || exchange.response != null || exchange.pump == null) {
        return ResponseOutcome.NO_WAITING_CLIENT;
      }
      exchange.response = handoff;
      exchange.notifyAll();
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
    if (exchange == null) {
      return Optional.empty();
    }
    long deadline = System.nanoTime() + maxWait.toNanos();
    while (true) {
      Pump pump = null;
      synchronized (exchange) {
        if (exchange.response != null) {
          return Optional.of(exchange.response);
        }
        if (exchange.pump != null && !exchange.pumpServed) {
          exchange.pumpServed = true;
          pump = exchange.pump;
        } else {
          long remaining = deadline - System.nanoTime();
          if (exchange.closed || remaining <= 0) {
            exchange.closed = true;
            return Optional.empty();
          }
          TimeUnit.NANOSECONDS.timedWait(exchange, remaining);
          continue;
        }
      }
      try {
        exchange.request.writeTo(pump.out);
        pump.done.complete(null);
      } catch (IOException | RuntimeException e) {
        pump.done.completeExceptionally(e);
        throw new IOException("the request could not be delivered to the agent: " + e.getMessage(), e);
      }
      // The wait for the response starts once the agent has the whole request.
      deadline = System.nanoTime() + maxWait.toNanos();
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
      if (exchange.leaseExpiry != null) {
        exchange.leaseExpiry.cancel(false);
      }
      exchange.state = State.FINISHED;
    }
    synchronized (exchange) {
      exchange.closed = true;
      if (exchange.response != null) {
        exchange.response.finished(ResponseOutcome.CLIENT_GONE);
      }
      if (exchange.pump != null && !exchange.pumpServed) {
        exchange.pump.done.completeExceptionally(new IOException("the client of request " + requestId + " went away"));
      }
      exchange.notifyAll();
    }
  }

  /** Number of exchanges not yet finished; for tests and metrics. */
  public int size() {
    return exchanges.size();
  }

  @Override
  public void close() {
    timer.shutdownNow();
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
          e.leaseExpiry.cancel(false);
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
      e.leaseExpiry = timer.schedule(() -> expireLease(backlog, e), lease.toMillis(), TimeUnit.MILLISECONDS);
      ids.add(e.id);
    }
    return ids;
  }

  private void expireLease(Backlog backlog, Exchange e) {
    List<Runnable> deliveries;
    synchronized (backlog) {
      if (e.state != State.LEASED) {
        return;
      }
      e.state = State.QUEUED;
      backlog.queued.addFirst(e);
      deliveries = dispatch(backlog);
    }
    deliveries.forEach(Runnable::run);
  }

  private static void await(CompletableFuture<Void> done) throws IOException {
    try {
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while the request was being written", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
    }
  }
}
