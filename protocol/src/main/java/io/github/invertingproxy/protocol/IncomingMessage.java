package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.io.InputStream;
import java.util.function.Supplier;

/**
 * A parsed message head with its body still on the wire. Read {@link #body()} to its end before
 * asking for {@link #trailers()}.
 */
public final class IncomingMessage<H> {
  private final H head;
  private final BodyFraming framing;
  private final InputStream body;
  private final Supplier<Headers> trailers;

  IncomingMessage(H head, BodyFraming framing, InputStream body, Supplier<Headers> trailers) {
    this.head = requireNonNull(head, "head");
    this.framing = requireNonNull(framing, "framing");
    this.body = requireNonNull(body, "body");
    this.trailers = requireNonNull(trailers, "trailers");
  }

  public H head() {
    return head;
  }

  public BodyFraming framing() {
    return framing;
  }

  /** The body with its transfer framing removed; ends with an IOException if the message is cut short. */
  public InputStream body() {
    return body;
  }

  /** The chunked body's trailer fields (empty for other framings); complete once the body is read. */
  public Headers trailers() {
    return trailers.get();
  }
}
