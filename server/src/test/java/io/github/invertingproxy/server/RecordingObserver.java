package io.github.invertingproxy.server;

import io.github.invertingproxy.core.observe.AgentCall;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.observe.Failure;
import io.github.invertingproxy.core.observe.Finished;
import io.github.invertingproxy.core.observe.ObservedExchange;
import io.github.invertingproxy.core.spi.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Writes down every step it is told, one line each, in order; the agents' calls apart. */
final class RecordingObserver implements ExchangeObserver {
  private final List<String> steps = new ArrayList<>();
  private final List<String> calls = new ArrayList<>();
  private int finished;

  private synchronized void step(String line) {
    steps.add(line);
  }

  @Override
  public void received(ObservedExchange e) {
    step("received " + e.method() + " " + e.path());
  }

  @Override
  public void routed(ObservedExchange e, Route.Kind kind) {
    step("routed " + kind + " user=" + e.user() + " backend=" + e.backend());
  }

  @Override
  public void queued(ObservedExchange e) {
    step("queued " + e.requestId());
  }

  @Override
  public void taken(String backend, String requestId) {
    step("taken " + requestId + " backend=" + backend);
  }

  @Override
  public void responseBegun(ObservedExchange e, int status) {
    step("begun " + status);
  }

  @Override
  public void failed(ObservedExchange e, Failure reason, int status) {
    step("failed " + reason + " " + status);
  }

  @Override
  public synchronized void finished(ObservedExchange e, Finished end) {
    step("finished " + end.status() + " in=" + end.bytesIn() + " out=" + end.bytesOut());
    if (end.latencyNanos() < 0) {
      throw new AssertionError("negative latency " + end.latencyNanos());
    }
    finished++;
    notifyAll();
  }

  @Override
  public synchronized void agentCall(AgentCall call) {
    calls.add(call.kind().label() + " " + call.backend() + " " + call.status());
    notifyAll();
  }

  /** The steps so far, once {@code exchanges} exchanges have finished (within 10 s). */
  synchronized List<String> stepsOnceFinished(int exchanges) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (finished < exchanges) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("only " + finished + " of " + exchanges + " exchanges finished: " + steps);
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return List.copyOf(steps);
  }

  /** The agents' calls so far, once {@code expected} is among them (within 10 s). */
  synchronized List<String> agentCallsOnce(String expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!calls.contains(expected)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no agent call \"" + expected + "\" among " + calls);
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return List.copyOf(calls);
  }
}
