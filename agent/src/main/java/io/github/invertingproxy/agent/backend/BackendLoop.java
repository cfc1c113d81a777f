package io.github.invertingproxy.agent.backend;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SmallResponseReader;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Replays requests that are whole in memory against a plain HTTP/1.1 backend without a thread per
 * exchange: one selector thread reads every response, over keep-alive connections of its own. The
 * thread that submits a request writes it at once; a small response is handed over whole, on the
 * selector's thread, which must not be held up. Any other response (streamed, large, odd) is handed
 * over with its connection, back in blocking mode, and the bytes read of it, for the blocking client
 * to read from the start; so are breaks that happen after the backend started answering, which that
 * client reports in its own words.
 */
public final class BackendLoop implements Closeable {
  private static final Logger LOG = Logger.getLogger(BackendLoop.class.getName());
  /** Responses up to this are read on the selector's thread; larger ones are streamed. */
  private static final int READ_BUFFER_BYTES = 64 * 1024;
  private static final long HOUSEKEEPING_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** How an exchange ends; exactly one method is called, once. */
  public interface Listener {
    /** The whole response arrived; called on the selector's thread, which must not wait. */
    void completed(SmallResponseReader.Result response, byte[] body);

    /**
     * The response is not one to read here: its connection, blocking again, and every byte read of
     * it. Called on the selector's thread.
     *
     * @param unwritten the end of the request, when the backend began to answer before it had all of
     *     it: to be written before the response is read; null when it went out whole
     * @param remaining what is left of the forwarding timeout; zero for none
     */
    void handedOff(SocketChannel channel, ByteBuffer readSoFar, ByteBuffer unwritten, Duration remaining);

    /** No response: the backend cannot be reached, a write failed, the timeout passed, or the agent stops. */
    void failed(BackendFailure failure);
  }

  final Origin origin;
  private final Duration connectTimeout;
  private final Duration forwardingTimeout;
  private final Executor connector;
  final SmallResponseReader reader;
  private final int maxInFlight;
  private final Selector selector;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  final IdleConnections idle;
  final AtomicInteger inFlight = new AtomicInteger();
  final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
  final List<LoopConnection> handOffs = new ArrayList<>();
  private final Thread thread;
  volatile boolean closed;
  /** Runs between a request's write and the record of what it took; tests widen that gap with it. */
  volatile Runnable writeReturned = () -> { };

  /**
   * @param connector where new connections are opened (a blocking connect, so that a slow one holds
   *     no other exchange up)
   * @param maxInFlight the most exchanges at once; beyond it {@link #exchange} declines
   * @param maxIdle the most idle connections kept
   */
  public BackendLoop(Origin origin, Duration connectTimeout, Duration forwardingTimeout, Executor connector,
      SmallResponseReader reader, int maxInFlight, int maxIdle) throws IOException {
    this.origin = requireNonNull(origin, "origin");
    if (origin.tls()) {
      throw new IllegalArgumentException("the selector reads plain HTTP only, not " + origin);
    }
    this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
    this.forwardingTimeout = requireNonNull(forwardingTimeout, "forwardingTimeout");
    this.connector = requireNonNull(connector, "connector");
    this.reader = requireNonNull(reader, "reader");
    this.maxInFlight = maxInFlight;
    this.idle = new IdleConnections(maxIdle);
    this.selector = Selector.open();
    this.thread = new Thread(this::run, "inverting-proxy-agent-backend-selector");
    thread.setDaemon(true);
    thread.start();
  }

  public Origin origin() {
    return origin;
  }

  /**
   * Sends {@code request} (head and body, in wire format) on an idle connection from the calling
   * thread, or on a new one; {@code listener} hears how it ends.
   *
   * @param noBody the request is one whose response has no body (HEAD)
   * @param retryable whether the request may be sent again on a fresh connection when a kept-alive
   *     one turns out closed before answering (idempotent, no body)
   * @return false, and nothing done, when the loop is closed or has its most exchanges at once
   */
  public boolean exchange(byte[] request, boolean noBody, boolean retryable, Listener listener) {
    requireNonNull(request, "request");
    requireNonNull(listener, "listener");
    if (closed) {
      return false;
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      return false;
    }
    long deadline = forwardingTimeout.isZero() ? 0 : (System.nanoTime() + forwardingTimeout.toNanos()) | 1;
    LoopExchange e = new LoopExchange(request, noBody, retryable, listener, deadline);
    LoopConnection c = idle.take(e, System.nanoTime());
    if (c == null) {
      connect(e);
    } else {
      c.write(e);
    }
    return true;
  }

  /**
   * Takes back a connection handed over earlier, once the blocking client has read its response to
   * the end, so that it serves the next exchange here; closed when the loop is.
   */
  public void takeBack(SocketChannel channel) {
    runOnLoop(() -> {
      LoopConnection c = register(channel);
      if (c != null && !c.makeIdle()) {
        c.closeQuietly();
      }
    });
  }

  /**
   * Registers {@code channel}, non-blocking, with the selector; from the selector's thread only.
   * Returns null, the channel closed, when the loop is closed or the channel cannot be registered.
   */
  private LoopConnection register(SocketChannel channel) {
    LoopConnection c = new LoopConnection(this, channel);
    if (closed) {
      c.closeQuietly();
      return null;
    }
    try {
      channel.configureBlocking(false);
      c.key = channel.register(selector, SelectionKey.OP_READ, c);
      return c;
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.FINE, "a backend connection could not be registered", e);
      c.closeQuietly();
      return null;
    }
  }

  /** A seam for this package's tests: {@code hook} runs on the writing thread after each write returns. */
  void onWriteReturned(Runnable hook) {
    writeReturned = requireNonNull(hook, "hook");
  }

  /** Exchanges running now. */
  int inFlight() {
    return inFlight.get();
  }

  /** Idle connections kept now. */
  int idleCount() {
    return idle.size();
  }

  /** Stops the selector; exchanges still running fail, and every connection closes. */
  @Override
  public void close() {
    closed = true;
    selector.wakeup();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Opens a connection for {@code e} on the connector, then registers it here and sends. */
  void connect(LoopExchange e) {
    try {
      connector.execute(() -> {
        SocketChannel channel = null;
        try {
          channel = SocketChannel.open();
          channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
          channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
          channel.socket().connect(new InetSocketAddress(origin.host(), origin.port()),
              (int) connectTimeout.toMillis());
        } catch (IOException | RuntimeException ex) {
          closeQuietly(channel);
          end(e, BackendFailure.unreachable(origin, ex));
          return;
        }
        SocketChannel connected = channel;
        runOnLoop(() -> {
          LoopConnection c = register(connected);
          if (c == null) {
            end(e, BackendFailure.failed(origin, new IOException("the agent is stopping")));
            return;
          }
          c.exchange.set(e);
          c.write(e);
        });
      });
    } catch (RuntimeException rejected) {
      end(e, BackendFailure.unreachable(origin, new IOException("the agent is stopping", rejected)));
    }
  }

  void runOnLoop(Runnable task) {
    tasks.add(task);
    selector.wakeup();
    if (closed) {
      // The loop may have ended before it could see the task: run what is left here, where it fails.
      Runnable t;
      while ((t = tasks.poll()) != null) {
        t.run();
      }
    }
  }

  void end(LoopExchange e, BackendFailure failure) {
    inFlight.decrementAndGet();
    tell(() -> e.listener.failed(failure));
  }

  /** Runs a listener; one that throws is logged and does not stop the selector. */
  static void tell(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "an exchange's listener failed", e);
    }
  }

  private void run() {
    long nextHousekeeping = System.nanoTime() + HOUSEKEEPING_NANOS;
    try {
      while (!closed) {
        selector.select(TimeUnit.NANOSECONDS.toMillis(HOUSEKEEPING_NANOS));
        Runnable task;
        while ((task = tasks.poll()) != null) {
          task.run();
        }
        Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          LoopConnection c = (LoopConnection) key.attachment();
          if (key.isValid() && key.isWritable()) {
            c.writeMore();
          }
          if (key.isValid() && key.isReadable()) {
            c.read();
          }
        }
        if (!handOffs.isEmpty()) {
          handOff();
        }
        long now = System.nanoTime();
        if (now - nextHousekeeping >= 0) {
          nextHousekeeping = now + HOUSEKEEPING_NANOS;
          housekeeping(now);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "the backend selector failed; its exchanges fail", e);
    } finally {
      closed = true;
      shutDown();
    }
  }

  /** Ends exchanges past the forwarding timeout; closes connections idle too long. */
  private void housekeeping(long now) {
    for (SelectionKey key : selector.keys()) {
      LoopConnection c = (LoopConnection) key.attachment();
      LoopExchange e = c.exchange.get();
      if (e != null && e.deadline != 0 && now - e.deadline >= 0 && c.exchange.compareAndSet(e, null)) {
        c.closeQuietly();
        end(e, BackendFailure.timedOut(origin, forwardingTimeout, null));
      }
    }
    idle.closeExpired(now);
  }

  /** Gives the connections whose responses are not small to the listeners, blocking again. */
  private void handOff() throws IOException {
    // Their keys are cancelled; a select completes the deregistration, after which blocking mode is allowed.
    selector.selectNow();
    for (Iterator<LoopConnection> i = handOffs.iterator(); i.hasNext(); ) {
      LoopConnection c = i.next();
      int state = c.request.get();
      if (state == LoopConnection.WRITING && c.request.compareAndSet(LoopConnection.WRITING, LoopConnection.HANDING) || state == LoopConnection.HANDING) {
        // Its writer is still between its write and knowing what went out; it wakes the loop then.
        continue;
      }
      i.remove();
      LoopExchange e = c.handingOff;
      c.handingOff = null;
      Duration remaining = Duration.ZERO;
      if (e.deadline != 0) {
        remaining = Duration.ofNanos(Math.max(1, e.deadline - System.nanoTime()));
      }
      // The connection leaves the loop for good, so what it read can go with it uncopied.
      ByteBuffer readSoFar = ByteBuffer.wrap(c.in, 0, c.inLength);
      try {
        c.channel.configureBlocking(true);
      } catch (IOException | RuntimeException ex) {
        c.closeQuietly();
        end(e, BackendFailure.failed(origin, ex instanceof IOException io ? io : new IOException(ex)));
        continue;
      }
      inFlight.decrementAndGet();
      Duration left = remaining;
      ByteBuffer rest = c.request.get() == LoopConnection.PARTIAL ? c.unwritten : null;
      tell(() -> e.listener.handedOff(c.channel, readSoFar, rest, left));
    }
  }

  private void shutDown() {
    for (SelectionKey key : selector.keys()) {
      LoopConnection c = (LoopConnection) key.attachment();
      c.closeQuietly();
      LoopExchange e = c.exchange.getAndSet(null);
      if (e != null) {
        end(e, BackendFailure.failed(origin, new IOException("the agent is stopping")));
      }
    }
    for (LoopConnection c : handOffs) {
      c.closeQuietly();
      end(c.handingOff, BackendFailure.failed(origin, new IOException("the agent is stopping")));
    }
    handOffs.clear();
    idle.clear();
    Runnable task;
    while ((task = tasks.poll()) != null) {
      task.run();
    }
    closeQuietly(selector);
  }

  static void closeQuietly(Closeable c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        // Closing anyway.
      }
    }
  }
}
