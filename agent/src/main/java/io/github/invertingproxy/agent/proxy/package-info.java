/**
 * The agent's side of the protocol's calls: {@code agent/pending}, {@code agent/request}, {@code
 * agent/response}, with backoff and the proxy's TLS trust. Internal.
 */
package io.github.invertingproxy.agent.proxy;
