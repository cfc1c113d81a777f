/**
 * The pipeline: request sources (the poll, the channel) through prepare and the backend call to a
 * response sink ({@code agent/response} or a channel frame); one log line per request. Internal.
 */
package io.github.invertingproxy.agent.forward;
