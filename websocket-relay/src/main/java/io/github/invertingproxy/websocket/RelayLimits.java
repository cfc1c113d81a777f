package io.github.invertingproxy.websocket;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The bounds of every relayed WebSocket.
 *
 * @param maxMessageSize the largest message, in bytes, that may cross in either direction (the sum of
 *     its fragments); a larger one closes both sockets with 1009. It also bounds a single frame, and
 *     so the memory one direction of one socket can hold: frames are relayed one at a time.
 * @param idleTimeout a socket from which nothing (not even a pong) arrives for this long is closed,
 *     and its partner with it, with 1001
 * @param pingInterval a socket from which nothing arrived for this long is sent a ping, so that a
 *     quiet but healthy peer answers and stays open; zero sends none
 */
public record RelayLimits(long maxMessageSize, Duration idleTimeout, Duration pingInterval) {
  public static final long DEFAULT_MAX_MESSAGE_SIZE = 32L * 1024 * 1024;
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(2);
  public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(30);
  public static final RelayLimits DEFAULT =
      new RelayLimits(DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_IDLE_TIMEOUT, DEFAULT_PING_INTERVAL);

  public RelayLimits {
    requireNonNull(idleTimeout, "idleTimeout");
    requireNonNull(pingInterval, "pingInterval");
    if (maxMessageSize < 1 || maxMessageSize > Integer.MAX_VALUE - 1024) {
      throw new IllegalArgumentException("max message size must be 1 to " + (Integer.MAX_VALUE - 1024)
          + " bytes, was " + maxMessageSize);
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive, was " + idleTimeout);
    }
    if (pingInterval.isNegative()) {
      throw new IllegalArgumentException("ping interval must not be negative, was " + pingInterval);
    }
  }

  public RelayLimits withMaxMessageSize(long bytes) {
    return new RelayLimits(bytes, idleTimeout, pingInterval);
  }

  public RelayLimits withIdleTimeout(Duration timeout) {
    return new RelayLimits(maxMessageSize, timeout, pingInterval);
  }

  public RelayLimits withPingInterval(Duration interval) {
    return new RelayLimits(maxMessageSize, idleTimeout, interval);
  }
}
