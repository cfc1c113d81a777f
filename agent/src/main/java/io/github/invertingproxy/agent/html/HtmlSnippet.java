package io.github.invertingproxy.agent.html;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;

/**
 * A piece of HTML that the agent inserts into the backend's HTML pages, such as a banner, a favicon
 * link or the WebSocket shim's script. Register one with
 * {@code ForwardingAgent.Builder.injectHtml(HtmlSnippet)}; {@link HtmlInjection} says which responses
 * qualify and where the snippet goes.
 *
 * <p>Called once per qualifying response, on the thread forwarding it; it must be fast and safe for
 * use from several threads at once.
 */
@FunctionalInterface
public interface HtmlSnippet {
  /**
   * The HTML to insert into this response, or {@code ""} to insert nothing into it.
   *
   * @param request the request as the backend received it
   * @param response the backend's response head, framing headers included
   */
  String htmlFor(RequestHead request, ResponseHead response);

  /** The same HTML for every HTML response. */
  static HtmlSnippet of(String html) {
    requireNonNull(html, "html");
    return (request, response) -> html;
  }
}
