package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.proxy.Backoff;
import io.github.invertingproxy.agent.proxy.ProxyClient;
import io.github.invertingproxy.agent.proxy.ProxyTrust;
import io.github.invertingproxy.protocol.AgentFeatures;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * The pipeline's first source, the protocol's own: long-polls {@code agent/pending} and gives each
 * request id listed to the request threads, to be fetched and forwarded. A poll that fails is tried
 * again with backoff.
 */
public final class PollLoop {
  private static final Logger LOG = Logger.getLogger(PollLoop.class.getName());

  private final ProxyClient proxy;
  private final RequestForwarder forwarder;
  private final RecentRequestIds startedIds;
  private final Executor requests;
  private final Runnable channelOffered;
  private final BooleanSupplier closing;
  private final AgentObserver observer;

  /**
   * @param startedIds the ids already taken, from any source: a request is forwarded once
   * @param channelOffered told when a poll's answer offers the channel extension; null when the agent
   *     takes no channel
   * @param closing true once the agent stops; polling ends then
   */
  public PollLoop(ProxyClient proxy, RequestForwarder forwarder, RecentRequestIds startedIds, Executor requests,
      Runnable channelOffered, BooleanSupplier closing, AgentObserver observer) {
    this.proxy = requireNonNull(proxy, "proxy");
    this.forwarder = requireNonNull(forwarder, "forwarder");
    this.startedIds = requireNonNull(startedIds, "startedIds");
    this.requests = requireNonNull(requests, "requests");
    this.channelOffered = channelOffered;
    this.closing = requireNonNull(closing, "closing");
    this.observer = requireNonNull(observer, "observer");
  }

  /** Polls until the agent closes, or {@code requests} refuses work (it is shutting down). */
  public void poll() throws InterruptedException {
    Backoff backoff = new Backoff();
    boolean failing = false;
    while (!closing.getAsBoolean()) {
      ProxyClient.Pending pending;
      try {
        pending = proxy.pending();
      } catch (IOException | RuntimeException e) {
        if (closing.getAsBoolean()) {
          break;
        }
        observer.proxyCallFailed(AgentObserver.ProxyCall.PENDING);
        Duration wait = backoff.next();
        // One warning when polling starts to fail and one line when it recovers, not one per retry.
        if (!failing) {
          LOG.warning("polling the proxy failed, retrying with backoff: " + ProxyTrust.describe(e));
          failing = true;
        } else {
          LOG.fine("polling the proxy failed again, next try in " + wait.toMillis() + " ms: " + e.getMessage());
        }
        Thread.sleep(wait.toMillis(), wait.toNanosPart() % 1_000_000);
        continue;
      }
      backoff.reset();
      if (failing) {
        LOG.info("polling the proxy works again");
        failing = false;
      }
      if (channelOffered != null && pending.offers(AgentFeatures.CHANNEL)) {
        channelOffered.run();
      }
      for (String id : pending.ids()) {
        if (!startedIds.markStarted(id)) {
          LOG.finer(() -> "request " + id + " was listed again; already started");
          continue;
        }
        try {
          requests.execute(() -> forwarder.forward(id));
        } catch (RejectedExecutionException e) {
          return; // closing
        }
      }
    }
  }
}
