package io.github.invertingproxy.appengine.runner;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The running instances of one App Engine service: one servlet context per instance, each built
 * from the service's WAR with its own bootstrap listener, so its own SPI objects and in-JVM state,
 * as separate instances on App Engine share nothing but Datastore and Memcache. Requests go to the
 * instances in turn.
 */
final class ServiceInstances extends Handler.Sequence {
  /** Told of every request as an instance takes it, to show which instance served what. */
  interface Arrivals {
    void arrived(int instance, Request request);
  }

  private static final Arrivals NONE = (instance, request) -> {};

  private final List<Handler> instances;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLongArray served;
  private volatile Arrivals arrivals = NONE;

  /** @param instances one context per instance, in instance order */
  ServiceInstances(String service, List<Handler> instances) {
    super(List.copyOf(instances));
    if (instances.isEmpty()) {
      throw new IllegalArgumentException("service " + service + " needs at least one instance");
    }
    this.instances = List.copyOf(instances);
    this.served = new AtomicLongArray(instances.size());
  }

  int count() {
    return instances.size();
  }

  /** How many requests instance {@code instance} (from 0) has taken so far. */
  long served(int instance) {
    return served.get(instance);
  }

  /** Tells {@code arrivals} of every request from now on, instead of whoever was told before; null: nobody. */
  void observe(Arrivals arrivals) {
    this.arrivals = arrivals == null ? NONE : arrivals;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    int instance = Math.floorMod(next.getAndIncrement(), instances.size());
    served.incrementAndGet(instance);
    arrivals.arrived(instance, request);
    return instances.get(instance).handle(request, response, callback);
  }
}
