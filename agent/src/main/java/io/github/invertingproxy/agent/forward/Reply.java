package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.backend.BackendExchange;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.protocol.RequestHead;

/**
 * A response on its way back to the proxy, with what its log line and its observer need.
 *
 * @param request the request as the client sent it (for the log line)
 * @param exchange the backend exchange the response streams from; null when there is none (a 502,
 *     or a response the selector read whole)
 * @param failure why the backend gave no (whole) response; null when it did
 * @param started {@link System#nanoTime} when the agent took the request
 */
record Reply(String id, RequestHead request, BackendExchange exchange, SerializedResponse response, String failure,
    long started) {
  Reply {
    requireNonNull(id, "id");
    requireNonNull(request, "request");
    requireNonNull(response, "response");
  }

  /** The same reply with another response (read whole, or a 502 standing in for it). */
  Reply with(SerializedResponse other, String otherFailure) {
    return new Reply(id, request, exchange, other, otherFailure, started);
  }

  /** The agent's own 502 when the backend gave no response: the body says why. */
  static SerializedResponse badGateway(String failure) {
    return SerializedResponse.ofText(502, "Bad Gateway", "inverting-proxy agent: " + failure + "\n");
  }

  /** Why the response broke off: the forwarding timeout when it cut the exchange, else {@code otherwise}. */
  String brokeOff(String otherwise) {
    return exchange != null && exchange.timedOut()
        ? "backend did not finish within the --request-forwarding-timeout"
        : otherwise;
  }
}
