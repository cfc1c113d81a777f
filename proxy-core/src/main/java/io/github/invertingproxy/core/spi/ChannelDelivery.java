package io.github.invertingproxy.core.spi;

/**
 * A store's capability to send small requests over agents' channels ({@code agent/channel},
 * docs/protocol.md, "Channel extension") instead of queueing them for polls; obtained with
 * {@link ExchangeStore#capability}. While a channel is attached for a backend, the store sends that
 * backend's small requests ({@link ExchangeRequest#bufferable}) to it at once, in turn when there are
 * several.
 */
public interface ChannelDelivery {
  /** One agent's open channel, as the store sees it. */
  interface Channel {
    /**
     * Sends the request {@code requestId}, already taken, by writing {@code request} (on the client's
     * thread). Returns false, without writing, when the channel has closed: the request then waits for
     * a poll instead.
     */
    boolean send(String requestId, ExchangeRequest request);
  }

  /** From now on, small requests for {@code backendId} go to {@code channel} (in turn with others). */
  void attachChannel(String backendId, Channel channel);

  /** {@code channel} closed: no more requests go to it. Requests it took wait for their responses still. */
  void detachChannel(String backendId, Channel channel);

  /**
   * Hands a complete response that came over a channel (HTTP/1.1 wire format) to the waiting client.
   * Never waits: a channel's reader must not stall behind one slow client.
   *
   * @return false when no client waits for it (unknown, another backend's, not taken, or answered)
   */
  boolean deliver(String backendId, String requestId, byte[] response);

  /**
   * The channel that took {@code requestId} could not write it whole (it closed or broke first), so
   * its agent never had it: it waits for a poll or another channel again. Harmless once a response
   * began or the client left.
   */
  void requeue(String requestId);
}
