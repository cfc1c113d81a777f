package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.proxy.FetchedRequest;
import io.github.invertingproxy.agent.proxy.ProxyClient;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/** Responses posted with {@code agent/response}, the protocol's own way back; streamed as they are read. */
final class PostedResponses implements ResponseSink {
  private static final Logger LOG = Logger.getLogger(PostedResponses.class.getName());

  private final ProxyClient proxy;
  private final BooleanSupplier acceptNext;
  private final RequestLog log;

  /**
   * @param acceptNext whether to take the next waiting request from the proxy's answer (the
   *     {@code next-request} extension); asked before every post, so that a closing agent stops
   */
  PostedResponses(ProxyClient proxy, BooleanSupplier acceptNext, RequestLog log) {
    this.proxy = requireNonNull(proxy, "proxy");
    this.acceptNext = requireNonNull(acceptNext, "acceptNext");
    this.log = requireNonNull(log, "log");
  }

  @Override
  public FetchedRequest send(Reply reply) {
    ProxyClient.Posted posted;
    try {
      posted = proxy.postResponse(reply.id(), reply.response(), acceptNext.getAsBoolean());
    } catch (IOException e) {
      log.dropped(reply, reply.brokeOff(e.getMessage()));
      return null;
    }
    log.answered(reply, posted.status());
    return posted.next();
  }

  /**
   * Answers {@code 503} to request {@code id} at once, when the agent stops before the backend
   * answered: its client need not wait for the proxy's timeout.
   */
  void answerStopping(String id) {
    try {
      int status = proxy.postResponse(id, SerializedResponse.ofText(503, "Service Unavailable",
          "inverting-proxy agent: the agent stopped before the backend answered\n"), false).status();
      log.observer().forwarded(id, new AgentObserver.Forwarded(503, null, status));
      LOG.info("request " + RequestLog.shortId(id) + ": answered 503, the agent is stopping (proxy answered "
          + status + ")");
    } catch (IOException e) {
      log.observer().proxyCallFailed(AgentObserver.ProxyCall.RESPONSE);
      log.observer().dropped(id);
      LOG.warning("request " + RequestLog.shortId(id) + ": could not answer 503 while stopping: " + e.getMessage());
    }
  }
}
