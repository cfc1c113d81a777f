package io.github.invertingproxy.agent.rewrite;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.backend.BackendFailure;
import io.github.invertingproxy.agent.html.HtmlInjection;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.agent.http.SerializedResponse;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;
import java.util.Optional;

/**
 * The pipeline's prepare step: what the agent changes in an exchange beyond forwarding it. The
 * request's header fields always ({@link ForwardedHeaders}); when asked to by its options, session
 * cookies ({@link SessionCookies}) and HTML injected into pages ({@link HtmlInjection}). Without
 * those, responses pass untouched.
 */
public final class ExchangeRewrites {
  private final ForwardedHeaders headers;
  private final SessionCookies sessions;
  private final HtmlInjection injection;

  /** @param sessions null when the agent keeps no sessions */
  public ExchangeRewrites(ForwardedHeaders headers, SessionCookies sessions, HtmlInjection injection) {
    this.headers = requireNonNull(headers, "headers");
    this.sessions = sessions;
    this.injection = requireNonNull(injection, "injection");
  }

  /**
   * Rewrites a request, as the client sent it, on its way to the backend; the result rewrites its
   * response.
   */
  public Exchange begin(RequestHead original, String userId) {
    RequestHead request = headers.prepare(original, userId);
    SessionCookies.Restored restored = sessions == null ? null : sessions.restore(request, userId);
    RequestHead sent = restored == null ? request : restored.request();
    sent = injection.prepareRequest(sent);
    return new Exchange(sent, restored);
  }

  /** One exchange: the request to send, and how to change the backend's response to it. */
  public final class Exchange {
    private final RequestHead request;
    private final SessionCookies.Restored restored;

    private Exchange(RequestHead request, SessionCookies.Restored restored) {
      this.request = request;
      this.restored = restored;
    }

    /** The request as the backend gets it. */
    public RequestHead request() {
      return request;
    }

    /**
     * The backend's response as the proxy gets it: cookies taken into the session, snippets inserted.
     *
     * @throws BackendFailure when the page's first bytes cannot be read or decoded (nothing was sent yet)
     */
    public SerializedResponse response(SerializedResponse response, Origin backend) throws BackendFailure {
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
