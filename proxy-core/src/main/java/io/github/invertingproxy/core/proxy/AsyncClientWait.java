package io.github.invertingproxy.core.proxy;

import io.github.invertingproxy.core.BufferBudget;
import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.observe.Failure;
import io.github.invertingproxy.core.observe.Finished;
import io.github.invertingproxy.core.observe.ObservedExchange;
import io.github.invertingproxy.core.spi.AgentResponse;
import io.github.invertingproxy.core.spi.ExchangeStore;
import io.github.invertingproxy.core.spi.ResponseWaiter;
import io.github.invertingproxy.protocol.GoDuration;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.servlet.AsyncContext;
import javax.servlet.ServletRequest;

/**
 * The client's side of an exchange after its request was submitted, waiting for the response without
 * a thread: it answers exactly as {@link UserProxyServlet} does with one (relay, 502, 504, what
 * its observer is told), on whichever thread ends the wait.
 */
final class AsyncClientWait implements ResponseWaiter {
  /** The answer to a client when the proxy shuts down while it waits, with a thread or without. */
  static final String SHUTTING_DOWN = "Service unavailable: the proxy is shutting down";

  /** Request attribute: the failure that broke a relay off, thrown by the servlet on re-dispatch. */
  static final String BROKEN_RELAY = AsyncClientWait.class.getName() + ".brokenRelay";

  private final AsyncContext async;
  private final NonBlockingResponse response;
  private final ExchangeStore store;
  private final ProxySettings settings;
  private final ExchangeObserver observer;
  private final ObservedExchange exchange;
  /** The budget taken by the request's body in memory, given back when the exchange ends; or null. */
  private final BufferBudget.Reservation buffered;
  /** The servlet's thread while it begins the wait, which may bring a response that is already there. */
  private volatile Thread beginning;

  private AsyncClientWait(AsyncContext async, ExchangeStore store, ProxySettings settings, ExchangeObserver observer,
      ObservedExchange exchange, BufferBudget.Reservation buffered) throws IOException {
    this.buffered = buffered;
    this.async = async;
    this.response = new NonBlockingResponse(async);
    this.store = store;
    this.settings = settings;
    this.observer = observer;
    this.exchange = exchange;
  }

  /** Makes {@code request} asynchronous and waits for the response of the queued {@code exchange}. */
  static void begin(ServletRequest request, ExchangeStore store, ProxySettings settings, ExchangeObserver observer,
      ObservedExchange exchange, BufferBudget.Reservation buffered) throws IOException {
    AsyncContext async = request.startAsync();
    async.setTimeout(0); // the store ends the wait: its timeout starts once the agent has the request
    AsyncClientWait wait = new AsyncClientWait(async, store, settings, observer, exchange, buffered);
    wait.beginning = Thread.currentThread();
    try {
      store.awaitResponseAsync(exchange.requestId(), settings.responseTimeout(), wait);
    } finally {
      wait.beginning = null;
    }
  }

  @Override
  public void onResponse(AgentResponse agentResponse) {
    if (!agentResponse.whole() && Thread.currentThread() == beginning) {
      // Already there and still streaming: relaying it may wait for the client, which the servlet's
      // own thread must not do (the container signals writability only after it returns).
      async.start(() -> relay(agentResponse));
    } else {
      relay(agentResponse);
    }
  }

  private void relay(AgentResponse agentResponse) {
    response.mayWait(!agentResponse.whole());
    long[] result;
    AtomicBoolean begun = new AtomicBoolean();
    try {
      result = ResponseRelay.relay(agentResponse, exchange.method(), settings.messageLimits(), response, status -> {
        begun.set(true);
        observer.responseBegun(exchange, status);
      });
    } catch (IOException | RuntimeException e) {
      end(0, 0, blame(e), e);
      return;
    }
    // Without a begun response the agent's was unusable, and the client got the relay's 502.
    end((int) result[0], result[1], begun.get() ? null : Failure.AGENT_GONE, null);
  }

  @Override
  public void onTimeout() {
    answer(504, gatewayTimeout(exchange.backend(), settings.responseTimeout()), Failure.TIMEOUT);
  }

  @Override
  public void onFailure(IOException failure) {
    answer(502, "Bad gateway: " + failure.getMessage(), Failure.AGENT_GONE);
  }

  @Override
  public void onShutdown() {
    answer(503, SHUTTING_DOWN, Failure.SHUTTING_DOWN);
  }

  /** The answer to a client whose response did not begin in time, with a thread or without. */
  static String gatewayTimeout(String backendId, Duration responseTimeout) {
    return "Gateway timeout: the agent of backend \"" + backendId + "\" did not start a response within "
        + GoDuration.format(responseTimeout);
  }

  /** Which side broke a relay off. */
  static Failure blame(Throwable relayFailure) {
    return relayFailure instanceof ResponseRelay.AgentStreamBroken ? Failure.AGENT_GONE : Failure.CLIENT_GONE;
  }

  private void answer(int status, String message, Failure reason) {
    response.mayWait(false);
    try {
      PlainText.send(response, status, message);
    } catch (IOException | RuntimeException e) {
      end(0, 0, Failure.CLIENT_GONE, e);
      return;
    }
    end(status, 0, reason, null);
  }

  /**
   * Finishes the exchange. A relay that broke off is thrown from a re-dispatch of the servlet, so that
   * the container aborts the client's connection rather than ending a truncated body cleanly.
   */
  private void end(int status, long bytes, Failure reason, Throwable failure) {
    store.finish(exchange.requestId());
    if (buffered != null) {
      buffered.release();
    }
    if (reason != null) {
      observer.failed(exchange, reason, status);
    }
    // 0: the relay failed mid-way and the container aborts the client's connection.
    observer.finished(exchange, new Finished(status, exchange.requestBytes(), bytes, exchange.elapsedNanos()));
    if (failure == null) {
      response.complete();
    } else {
      async.getRequest().setAttribute(BROKEN_RELAY, failure);
      async.dispatch();
    }
  }
}
