package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.backend.BackendClient;
import io.github.invertingproxy.agent.backend.BackendFailure;
import io.github.invertingproxy.agent.backend.BackendLoop;
import io.github.invertingproxy.agent.channel.ChannelSocket;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.agent.http.SmallResponseReader;
import io.github.invertingproxy.agent.proxy.FetchedRequest;
import io.github.invertingproxy.agent.rewrite.ExchangeRewrites;
import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The pipeline's fast path for requests that came whole over the channel, run on the channel's
 * reader, which must never wait: the backend call goes through the selector ({@link BackendLoop}, no
 * thread per exchange) and a small response back in a frame. Whatever may wait (a WebSocket, a large
 * body, a streamed response, a post to the proxy) goes to the request threads and the
 * {@link RequestForwarder}, which does the same work blocking.
 */
public final class SelectorForwarder {
  private static final Logger LOG = Logger.getLogger(SelectorForwarder.class.getName());

  private final RequestForwarder forwarder;
  private final BackendLoop loop;
  /** Requests with the selector or their frame's write; see {@link #awaitExchanges}. */
  private final AtomicInteger exchanges = new AtomicInteger();

  public SelectorForwarder(RequestForwarder forwarder, BackendLoop loop) {
    this.forwarder = requireNonNull(forwarder, "forwarder");
    this.loop = requireNonNull(loop, "loop");
  }

  /**
   * Forwards a request that came whole over the channel {@code via}, without waiting; what may wait
   * goes to {@code threads}.
   */
  public void forward(ChannelFrame.Request request, ChannelSocket via, Executor threads) {
    long started = System.nanoTime();
    FetchedRequest whole = RequestForwarder.whole(request);
    if (whole == null) {
      return;
    }
    ChannelResponses sink = forwarder.sinkFor(via);
    RequestHead original = whole.message().head();
    BodyFraming framing = whole.message().framing();
    if (forwarder.wantsWebSocket(original) || original.method().equalsIgnoreCase("CONNECT")
        || !framing.knownAtMost(ChannelFrame.MAX_BODY_BYTES)) {
      threads.execute(() -> forwarder.forwardAll(whole, sink, started));
      return;
    }
    ExchangeRewrites.Exchange rewrite;
    byte[] wire;
    try {
      rewrite = forwarder.rewrites().begin(original, whole.userId());
      ByteArrayOutputStream out = new ByteArrayOutputStream(512);
      MessageWriter.writeHead(out, rewrite.request());
      whole.message().body().transferTo(out);
      wire = out.toByteArray();
    } catch (IOException | RuntimeException e) {
      // Not expected (all is in memory); the thread path then meets the same problem and says what it is.
      threads.execute(() -> forwarder.forwardAll(whole, sink, started));
      return;
    }
    forwarder.log().received(whole);
    forwarder.log().observer().received(whole.id());
    forwarder.unanswered().add(whole.id());
    RequestHead sent = rewrite.request();
    whole.bodyConsumed();
    exchanges.incrementAndGet();
    boolean retryable = framing instanceof BodyFraming.None && BackendClient.IDEMPOTENT.contains(sent.method());
    Exchange exchange = new Exchange(whole, rewrite, sink, threads, started);
    if (!loop.exchange(wire, sent.method().equalsIgnoreCase("HEAD"), retryable, exchange)) {
      handOver(threads, () -> forwarder.forwardAll(whole, sink, started));
    }
  }

  /**
   * Waits up to {@code timeout} until no request is with the selector or its frame's write any more:
   * each has been answered, or handed to the request threads. True when none is left.
   */
  public boolean awaitExchanges(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (exchanges.get() > 0) {
      if (System.nanoTime() - end >= 0) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  /** Ends a request's time with the selector by giving the rest of its work to {@code threads}. */
  private void handOver(Executor threads, Runnable rest) {
    try {
      threads.execute(rest);
    } catch (RejectedExecutionException e) {
      LOG.warning("a request's response was dropped: the agent is stopping");
    } finally {
      exchanges.decrementAndGet();
    }
  }

  /** One request with the selector, and how its end is answered. */
  private final class Exchange implements BackendLoop.Listener {
    private final FetchedRequest whole;
    private final ExchangeRewrites.Exchange rewrite;
    private final ChannelResponses sink;
    private final Executor threads;
    private final long started;

    Exchange(FetchedRequest whole, ExchangeRewrites.Exchange rewrite, ChannelResponses sink, Executor threads,
        long started) {
      this.whole = whole;
      this.rewrite = rewrite;
      this.sink = sink;
      this.threads = threads;
      this.started = started;
    }

    @Override
    public void completed(SmallResponseReader.Result response, byte[] body) {
      SerializedResponse relayed;
      String failure = null;
      try {
        relayed = rewrite.response(SerializedResponse.whole(response, body), loop.origin());
      } catch (BackendFailure | RuntimeException e) {
        failure = e instanceof BackendFailure ? e.getMessage() : "the agent could not relay the response: " + e;
        relayed = Reply.badGateway(failure);
      }
      sendBack(relayed, failure);
    }

    @Override
    public void handedOff(SocketChannel channel, ByteBuffer readSoFar, ByteBuffer unwritten, Duration remaining) {
      // The response is not one to read here: the blocking client reads it from the start.
      handOver(threads, () -> forwarder.forwardNext(forwarder.relay(whole, rewrite,
          () -> forwarder.backend().receive(channel, readSoFar, unwritten, loop::takeBack, rewrite.request(),
              remaining), sink, started)));
    }

    @Override
    public void failed(BackendFailure failure) {
      LOG.log(Level.FINE, "request " + RequestLog.shortId(whole.id()) + ": " + failure.getMessage(), failure.getCause());
      sendBack(Reply.badGateway(failure.getMessage()), failure.getMessage());
    }

    /** Sends the response back without waiting: in a frame when it fits, else posted on {@code threads}. */
    private void sendBack(SerializedResponse response, String failure) {
      whole.close();
      if (!forwarder.unanswered().take(whole.id())) {
        exchanges.decrementAndGet(); // the stopping agent answered it already
        return;
      }
      Reply reply = new Reply(whole.id(), whole.message().head(), null, response, failure, started);
      sink.sendLater(reply, exchanges::decrementAndGet,
          unsent -> handOver(threads, () -> forwarder.forwardNext(forwarder.posted().send(unsent))));
    }
  }
}
