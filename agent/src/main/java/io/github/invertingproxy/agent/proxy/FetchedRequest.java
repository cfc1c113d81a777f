package io.github.invertingproxy.agent.proxy;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;

/**
 * A client request the agent got from the proxy: from {@code agent/request} or an {@code agent/response}
 * answer, its body still streaming from the proxy's connection, which this object holds until closed;
 * or whole in a channel frame, held in memory.
 */
public final class FetchedRequest implements Closeable {
  /** What the request is read from, given back once the request is done with. */
  interface Source {
    /** @param bodyConsumed whether the request's body was read to its end */
    void release(boolean bodyConsumed);
  }

  private final String id;
  private final String userId;
  private final Instant startTime;
  private final IncomingMessage<RequestHead> message;
  private final Source source;
  private boolean bodyConsumed;
  private boolean closed;

  FetchedRequest(String id, String userId, Instant startTime, IncomingMessage<RequestHead> message, Source source) {
    this.id = requireNonNull(id, "id");
    this.userId = requireNonNull(userId, "userId");
    this.startTime = requireNonNull(startTime, "startTime");
    this.message = requireNonNull(message, "message");
    this.source = requireNonNull(source, "source");
  }

  /**
   * A request that came whole in a channel frame.
   *
   * @throws IOException when the frame's start time or request is unusable
   */
  public static FetchedRequest whole(ChannelFrame.Request frame) throws IOException {
    requireNonNull(frame, "frame");
    Instant startTime;
    try {
      startTime = RequestStartTime.parse(frame.startTime());
    } catch (IllegalArgumentException e) {
      // As for agent/request: a request without a usable start time is not forwarded.
      throw new IOException("proxy's channel frame is unusable: " + e.getMessage(), e);
    }
    IncomingMessage<RequestHead> message =
        MessageReader.readRequest(new ByteArrayInputStream(frame.message()), MessageLimits.DEFAULT);
    // Nothing to give back: the frame is in memory.
    return new FetchedRequest(frame.id(), frame.user(), startTime, message, consumed -> {});
  }

  public String id() {
    return id;
  }

  /** The end user's email as the proxy reported it; empty on a proxy without user authentication. */
  public String userId() {
    return userId;
  }

  /** When the client's request reached the proxy. */
  public Instant startTime() {
    return startTime;
  }

  public IncomingMessage<RequestHead> message() {
    return message;
  }

  /** Records that the body was read to its end, so the connection can be kept for another call. */
  public void bodyConsumed() {
    bodyConsumed = true;
  }

  /** Gives the source back (see {@link Source#release}). Closing again does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    source.release(bodyConsumed);
  }
}
