package io.github.invertingproxy.agent.backend;

import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.protocol.GoDuration;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.NoHttpResponseException;

/**
 * The backend gave no usable response head. The message is meant for the client, in the 502 that
 * the agent posts instead: it says which backend and what went wrong.
 */
public final class BackendFailure extends Exception {
  public BackendFailure(String message, Throwable cause) {
    super(message, cause);
  }

  static BackendFailure unreachable(Origin backend, Exception cause) {
    String reason;
    if (cause instanceof UnknownHostException) {
      reason = "unknown host " + backend.host();
    } else if (cause instanceof SocketTimeoutException) {
      reason = "connect timed out";
    } else if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
      reason = cause.getMessage() == null ? "connection failed" : cause.getMessage();
    } else {
      reason = String.valueOf(cause.getMessage());
    }
    return new BackendFailure("backend " + backend + " is unreachable: " + reason, cause);
  }

  static BackendFailure timedOut(Origin backend, Duration timeout, Exception cause) {
    return new BackendFailure("backend " + backend + " did not respond within " + GoDuration.format(timeout)
        + " (--request-forwarding-timeout)", cause);
  }

  static BackendFailure requestBodyUnreadable(Exception cause) {
    return new BackendFailure("the request body could not be read from the proxy: " + cause.getMessage(), cause);
  }

  static BackendFailure failed(Origin backend, Exception cause) {
    if (cause instanceof NoHttpResponseException || cause instanceof ConnectionClosedException) {
      return new BackendFailure("backend " + backend + " closed the connection without a response", cause);
    }
    if (cause instanceof org.apache.hc.core5.http.HttpException) {
      return new BackendFailure("backend " + backend + " sent a malformed response: " + cause.getMessage(), cause);
    }
    return new BackendFailure("backend " + backend + " failed: " + cause.getMessage(), cause);
  }
}
