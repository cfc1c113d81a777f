package io.github.invertingproxy.core.observe;

/**
 * How an exchange ended.
 *
 * @param status the status the client got; 0 when its connection was aborted mid-response
 * @param bytesIn the request body's length as declared by the client
 * @param bytesOut the response body bytes relayed to the client
 * @param latencyNanos from the request's arrival to the end of its response
 */
public record Finished(int status, long bytesIn, long bytesOut, long latencyNanos) {}
