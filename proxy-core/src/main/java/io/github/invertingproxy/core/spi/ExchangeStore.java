package io.github.invertingproxy.core.spi;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The exchanges between clients and agents: a client's request waits here until its backend's agent
 * takes it, and the agent's response travels back through here to the waiting client.
 *
 * <p>Every method that names a backend checks that the exchange belongs to it, so that an agent only
 * ever sees its own backend's requests.
 */
public interface ExchangeStore {
  /**
   * Queues a client's request for {@code backendId}.
   *
   * @return the new exchange's id: unguessable (at least 128 random bits) and URL-safe
   * @throws RequestTooLargeException when the store caps request sizes and this one is larger
   */
  String submit(String backendId, ExchangeRequest request) throws IOException;

  /**
   * The long poll: completes with the ids of requests waiting for {@code backendId} as soon as there
   * is at least one, or with an empty list after {@code maxWait}. Cancelling the future ends the wait.
   */
  CompletableFuture<List<String>> awaitPending(String backendId, Duration maxWait);

  /** The request for the agent to replay; empty when the id is unknown, expired, taken, or another backend's. */
  Optional<ExchangeRequest> take(String backendId, String requestId) throws IOException;

  /**
   * Takes, without waiting, the oldest request for {@code backendId} that no poll has been told of:
   * the answer to an agent's {@code agent/response} carries it when the agent announced the
   * {@code next-request} extension, saving a poll and an {@code agent/request} call under load.
   * Taken exactly as by {@link #take}.
   *
   * @return empty when none is waiting, or when this store does not hand requests over this way (the
   *     default; its agents then poll for every request)
   */
  default Optional<TakenRequest> takeNext(String backendId) throws IOException {
    return Optional.empty();
  }

  /**
   * Hands the agent's serialized response (HTTP/1.1 wire format) to the exchange, and returns once
   * it has been relayed or refused. The stream is read by the time this returns.
   */
  ResponseOutcome respond(String backendId, String requestId, InputStream response) throws IOException;

  /**
   * The client's side: waits up to {@code maxWait} for the agent's response to begin.
   *
   * @return the response, or empty when none began in time
   */
  Optional<AgentResponse> awaitResponse(String requestId, Duration maxWait) throws IOException, InterruptedException;

  /**
   * The client's side, relaying: waits like {@link #awaitResponse(String, Duration)} and runs
   * {@code handler} on the response. By default it runs on this thread; a store may run it on the
   * thread that delivers the response instead, saving a thread hand-off, and then returns its result
   * (or throws what it threw) here once it is done. This call returns only after {@code handler}
   * finished, whichever thread ran it.
   *
   * @return the handler's result, or empty when no response began in time
   * @throws IOException when the request could not be delivered, or as thrown by {@code handler}
   */
  default <T> Optional<T> awaitResponse(String requestId, Duration maxWait, ResponseHandler<T> handler)
      throws IOException, InterruptedException {
    Optional<AgentResponse> response = awaitResponse(requestId, maxWait);
    return response.isEmpty() ? Optional.empty() : Optional.of(handler.handle(response.get()));
  }

  /**
   * Whether {@link #awaitResponseAsync} is available: the client's side can then wait without
   * holding a thread. False by default.
   */
  default boolean awaitsAsynchronously() {
    return false;
  }

  /**
   * The client's side without a waiting thread, for a request whose agent never reads from the
   * client's connection (it has no body, or its body is already in memory): returns at once, and
   * {@code waiter} later hears exactly once how the wait ended, on the thread that ended it (see
   * {@link ResponseWaiter}). The response timeout is counted as by
   * {@link #awaitResponse(String, Duration)}.
   *
   * @throws UnsupportedOperationException when {@link #awaitsAsynchronously()} is false
   */
  default void awaitResponseAsync(String requestId, Duration maxWait, ResponseWaiter waiter) {
    throw new UnsupportedOperationException("this exchange store has no asynchronous wait");
  }

  /** The client is done with the exchange, answered or not; forget it. Harmless when already gone. */
  void finish(String requestId);

  /**
   * What this store can do beyond this interface, such as {@link ChannelDelivery} or
   * {@link ThreadlessWaits}: the store itself when it implements {@code type}, else empty.
   */
  default <T> Optional<T> capability(Class<T> type) {
    return type.isInstance(this) ? Optional.of(type.cast(this)) : Optional.empty();
  }
}
