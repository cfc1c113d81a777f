package io.github.invertingproxy.core.observe;

import static java.util.Objects.requireNonNull;

/**
 * One client exchange as its observers see it. Each step that learns something returns a new value
 * with it: the user and backend once routed, the request id once queued for an agent.
 *
 * @param user the end user; empty while unknown or anonymous
 * @param backend the chosen backend's id; null while none is chosen
 * @param requestId the id the exchange is queued under; null until queued
 * @param requestBytes the request body's length as the client declared it; 0 when undeclared
 * @param startNanos {@link System#nanoTime()} when the request arrived
 */
public record ObservedExchange(String method, String path, String user, String backend, String requestId,
    long requestBytes, long startNanos) {

  public ObservedExchange {
    requireNonNull(method, "method");
    requireNonNull(path, "path");
    requireNonNull(user, "user");
  }

  /** An exchange that just arrived: nothing known but its method and path. */
  public static ObservedExchange arrived(String method, String path, long requestBytes, long startNanos) {
    return new ObservedExchange(method, path, "", null, null, Math.max(0, requestBytes), startNanos);
  }

  public ObservedExchange withUser(String user) {
    return new ObservedExchange(method, path, user, backend, requestId, requestBytes, startNanos);
  }

  public ObservedExchange routedTo(String backend) {
    return new ObservedExchange(method, path, user, backend, requestId, requestBytes, startNanos);
  }

  public ObservedExchange queuedAs(String requestId) {
    return new ObservedExchange(method, path, user, backend, requestId, requestBytes, startNanos);
  }

  /** Nanoseconds since the request arrived. */
  public long elapsedNanos() {
    return System.nanoTime() - startNanos;
  }
}
