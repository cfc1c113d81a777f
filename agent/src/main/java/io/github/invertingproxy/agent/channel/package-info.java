/**
 * The {@code channel} extension: one WebSocket to the proxy carrying small requests and responses,
 * and the bytes it may hold. Internal.
 */
package io.github.invertingproxy.agent.channel;
