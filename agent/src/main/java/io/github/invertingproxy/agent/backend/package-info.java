/**
 * Calls to the backend: the blocking HTTP/1.1 client, h2c, the selector for small exchanges, the
 * health check. Knows nothing of where requests come from. Internal.
 */
package io.github.invertingproxy.agent.backend;
