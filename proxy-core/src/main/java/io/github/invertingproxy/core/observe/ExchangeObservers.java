package io.github.invertingproxy.core.observe;

import io.github.invertingproxy.core.spi.Route;
import java.util.List;
import java.util.stream.Stream;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tells every one of several observers, in order. One observer that throws does not keep the others
 * (or the exchange) from going on: its failure is logged.
 */
public final class ExchangeObservers implements ExchangeObserver {
  private static final Logger LOG = Logger.getLogger(ExchangeObservers.class.getName());

  private final List<ExchangeObserver> observers;

  private ExchangeObservers(List<ExchangeObserver> observers) {
    this.observers = observers;
  }

  /** All of {@code observers} but {@link #NONE}; the only one itself when there is one. */
  public static ExchangeObserver of(ExchangeObserver... observers) {
    List<ExchangeObserver> list = Stream.of(observers).filter(o -> o != NONE).toList();
    return list.isEmpty() ? NONE : list.size() == 1 ? list.get(0) : new ExchangeObservers(list);
  }

  private interface Event {
    void tell(ExchangeObserver observer);
  }

  private void each(Event event) {
    for (ExchangeObserver o : observers) {
      try {
        event.tell(o);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "exchange observer " + o.getClass().getName() + " failed", e);
      }
    }
  }

  @Override
  public void received(ObservedExchange exchange) {
    each(o -> o.received(exchange));
  }

  @Override
  public void routed(ObservedExchange exchange, Route.Kind kind) {
    each(o -> o.routed(exchange, kind));
  }

  @Override
  public void queued(ObservedExchange exchange) {
    each(o -> o.queued(exchange));
  }

  @Override
  public void taken(String backend, String requestId) {
    each(o -> o.taken(backend, requestId));
  }

  @Override
  public void responseBegun(ObservedExchange exchange, int status) {
    each(o -> o.responseBegun(exchange, status));
  }

  @Override
  public void failed(ObservedExchange exchange, Failure reason, int status) {
    each(o -> o.failed(exchange, reason, status));
  }

  @Override
  public void finished(ObservedExchange exchange, Finished end) {
    each(o -> o.finished(exchange, end));
  }

  @Override
  public void agentCall(AgentCall call) {
    each(o -> o.agentCall(call));
  }
}
