package io.github.invertingproxy.core.observe;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.ChannelDelivery;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A store's channel delivery that reports each request a channel sends as {@link ExchangeObserver#taken},
 * as a poll's fetch is: the agent has it. A send that later fails to write whole puts the request
 * back in the queue ({@link #requeue}), uncounted as waiting again, as a lapsed poll lease is.
 */
public final class ObservedChannelDelivery implements ChannelDelivery {
  private final ChannelDelivery store;
  private final ExchangeObserver observer;
  /** Each attached channel's reporting stand-in, so that detaching finds the one the store knows. */
  private final Map<Channel, Channel> reporting = new ConcurrentHashMap<>();

  private ObservedChannelDelivery(ChannelDelivery store, ExchangeObserver observer) {
    this.store = requireNonNull(store, "store");
    this.observer = requireNonNull(observer, "observer");
  }

  /** {@code store} itself when nobody observes (or it is null); otherwise one that reports. */
  public static ChannelDelivery of(ChannelDelivery store, ExchangeObserver observer) {
    return store == null || observer == ExchangeObserver.NONE ? store : new ObservedChannelDelivery(store, observer);
  }

  @Override
  public void attachChannel(String backendId, Channel channel) {
    Channel stand = (requestId, request) -> send(backendId, channel, requestId, request);
    reporting.put(channel, stand);
    store.attachChannel(backendId, stand);
  }

  private boolean send(String backendId, Channel channel, String requestId, ExchangeRequest request) {
    boolean sent = channel.send(requestId, request);
    if (sent) {
      observer.taken(backendId, requestId);
    }
    return sent;
  }

  @Override
  public void detachChannel(String backendId, Channel channel) {
    Channel stand = reporting.remove(channel);
    store.detachChannel(backendId, stand != null ? stand : channel);
  }

  @Override
  public boolean deliver(String backendId, String requestId, byte[] response) {
    return store.deliver(backendId, requestId, response);
  }

  @Override
  public void requeue(String requestId) {
    store.requeue(requestId);
  }
}
