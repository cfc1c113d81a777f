package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.agent.proxy.FetchedRequest;
import io.github.invertingproxy.protocol.RequestHead;
import java.time.Duration;
import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What becomes of each request, told once: one log line per request, and the observer's calls (the
 * metrics). Every way a response goes back ends here.
 */
final class RequestLog {
  private static final Logger LOG = Logger.getLogger(RequestLog.class.getName());

  private final AgentObserver observer;

  RequestLog(AgentObserver observer) {
    this.observer = requireNonNull(observer, "observer");
  }

  AgentObserver observer() {
    return observer;
  }

  /** A request was taken (a fine-level line: the access log line comes with its response). */
  void received(FetchedRequest fetched) {
    if (LOG.isLoggable(Level.FINE)) {
      RequestHead original = fetched.message().head();
      LOG.fine("request " + shortId(fetched.id()) + ": " + original.method() + " " + original.path() + " for user \""
          + fetched.userId() + "\", queued at the proxy for "
          + Duration.between(fetched.startTime(), Instant.now()).toMillis() + " ms");
    }
  }

  /** The reply reached the proxy, which answered {@code proxyStatus} (200 for a channel frame). */
  void answered(Reply reply, int proxyStatus) {
    observer.forwarded(reply.id(),
        new AgentObserver.Forwarded(reply.response().head().status(), reply.failure(), proxyStatus));
    String line = summary(reply);
    if (proxyStatus == 404) {
      LOG.info(line + ", but no client was waiting any more (proxy answered 404)");
    } else if (proxyStatus != 200) {
      LOG.warning(line + ", but the proxy answered " + proxyStatus + " to agent/response");
    } else if (reply.failure() != null) {
      LOG.warning(line + ": " + reply.failure());
    } else {
      LOG.info(line);
    }
  }

  /** The reply could not be posted: the call to the proxy failed with {@code why}. */
  void dropped(Reply reply, String why) {
    observer.proxyCallFailed(AgentObserver.ProxyCall.RESPONSE);
    observer.dropped(reply.id());
    LOG.warning(summary(reply) + ", aborted: " + why);
  }

  private static String summary(Reply reply) {
    long millis = (System.nanoTime() - reply.started()) / 1_000_000;
    RequestHead request = reply.request();
    return "request " + shortId(reply.id()) + ": " + request.method() + " " + request.path() + " -> "
        + reply.response().head().status() + ", " + reply.response().bytes() + " bytes, " + millis + " ms";
  }

  /** Request ids are long; twelve characters tell them apart in a log. */
  static String shortId(String id) {
    return id.length() <= 12 ? id : id.substring(0, 12);
  }
}
