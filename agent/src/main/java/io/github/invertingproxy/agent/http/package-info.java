/**
 * HTTP plumbing shared by the proxy and backend clients: origins, pooled connections, responses as
 * the agent sends them back. Internal.
 */
package io.github.invertingproxy.agent.http;
