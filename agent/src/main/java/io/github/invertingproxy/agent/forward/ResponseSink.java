package io.github.invertingproxy.agent.forward;

import io.github.invertingproxy.agent.proxy.FetchedRequest;

/** The last step of the pipeline: where a response goes back to the proxy. */
interface ResponseSink {
  /**
   * Sends {@code reply} back, blocking until it is sent or given up, and logs it.
   *
   * @return the next request when the proxy's answer carried one (the {@code next-request}
   *     extension), else null
   */
  FetchedRequest send(Reply reply);
}
