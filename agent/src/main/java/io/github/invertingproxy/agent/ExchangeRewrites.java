package io.github.invertingproxy.agent;

import io.github.invertingproxy.agent.html.HtmlInjection;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What the agent changes in an exchange beyond forwarding it, when asked to by its options: session
 * cookies ({@link SessionCookies}) and HTML injected into pages ({@link HtmlInjection}). With neither,
 * requests and responses pass untouched.
 */
final class ExchangeRewrites {
  static final ExchangeRewrites NONE = new ExchangeRewrites(null, new HtmlInjection(List.of()));

  private final SessionCookies sessions;
  private final HtmlInjection injection;

  /** @param sessions null when the agent keeps no sessions */
  ExchangeRewrites(SessionCookies sessions, HtmlInjection injection) {
    this.sessions = sessions;
    this.injection = injection;
  }

  /** Rewrites a request on its way to the backend; the result rewrites its response. */
  Exchange begin(RequestHead request, String userId) {
    SessionCookies.Restored restored = sessions == null ? null : sessions.restore(request, userId);
    RequestHead sent = restored == null ? request : restored.request();
    sent = injection.prepareRequest(sent);
    return new Exchange(sent, restored);
  }

  /** One exchange: the request to send, and how to change the backend's response to it. */
  final class Exchange {
    private final RequestHead request;
    private final SessionCookies.Restored restored;

    private Exchange(RequestHead request, SessionCookies.Restored restored) {
      this.request = request;
      this.restored = restored;
    }

    /** The request as the backend gets it. */
    RequestHead request() {
      return request;
    }

    /**
     * The backend's response as the proxy gets it: cookies taken into the session, snippets inserted.
     *
     * @throws BackendFailure when the page's first bytes cannot be read or decoded (nothing was sent yet)
     */
    SerializedResponse response(SerializedResponse response, Origin backend) throws BackendFailure {
      ResponseHead head = response.head();
      if (restored != null) {
        head = sessions.intercept(restored, head);
      }
      if (injection.isEmpty() || response.body() == null) {
        return head == response.head() ? response : response.withHead(head);
      }
      Optional<HtmlInjection.Page> page;
      try {
        page = injection.inject(request, head, response.body());
      } catch (IOException e) {
        throw new BackendFailure("backend " + backend + " sent a page that could not be read: " + e.getMessage(), e);
      }
      if (page.isPresent()) {
        return response.withBody(page.get().head(), page.get().framing(), page.get().body());
      }
      return head == response.head() ? response : response.withHead(head);
    }
  }
}
