package io.github.invertingproxy.agent.forward;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.channel.ChannelSocket;
import io.github.invertingproxy.agent.proxy.FetchedRequest;
import io.github.invertingproxy.protocol.ChannelFrame;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Responses to requests that came over a channel: in one frame on that channel when they are whole
 * and small enough, else (or when the channel fails them) posted as any other (docs/protocol.md).
 */
final class ChannelResponses implements ResponseSink {
  private final ChannelSocket via;
  private final PostedResponses posted;
  private final RequestLog log;

  ChannelResponses(ChannelSocket via, PostedResponses posted, RequestLog log) {
    this.via = requireNonNull(via, "via");
    this.posted = requireNonNull(posted, "posted");
    this.log = requireNonNull(log, "log");
  }

  @Override
  public FetchedRequest send(Reply reply) {
    if (!fits(reply)) {
      return posted.send(reply);
    }
    Reply held = hold(reply);
    if (via.send(held.id(), held.response().toByteArray())) {
      log.answered(held, 200);
      return null;
    }
    // The channel closed meanwhile: the same bytes go with agent/response, which the proxy takes too.
    return posted.send(held);
  }

  /**
   * Sends {@code reply} without waiting, for a caller that must not block: {@code sent} runs once a
   * frame with it is written; what cannot go in a frame goes to {@code post} instead, to be posted on
   * a thread that may block.
   */
  void sendLater(Reply reply, Runnable sent, Consumer<Reply> post) {
    if (!fits(reply)) {
      post.accept(reply);
      return;
    }
    Reply held = hold(reply);
    via.send(held.id(), held.response().toByteArray(), written -> {
      if (written) {
        log.answered(held, 200);
        sent.run();
      } else {
        post.accept(held);
      }
    });
  }

  private boolean fits(Reply reply) {
    return via.isOpen() && reply.response().fitsWhole(ChannelFrame.MAX_BODY_BYTES);
  }

  /**
   * The reply with its response read whole into memory, for a frame; a 502 that says why when the
   * backend's body breaks off meanwhile.
   */
  private static Reply hold(Reply reply) {
    try {
      return reply.with(reply.response().readWhole(), reply.failure());
    } catch (IOException e) {
      String why = reply.brokeOff("backend's response broke off: " + e.getMessage());
      return reply.with(Reply.badGateway(why), why);
    }
  }
}
