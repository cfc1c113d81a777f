package io.github.invertingproxy.agent.rewrite;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.HopByHopHeaders;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestHead;
import java.util.ArrayList;
import java.util.List;

/**
 * The header fields a request reaches the backend with: those the client sent, less the ones that
 * belong to the client's own connection (not the body's framing, which the replay keeps), plus what
 * the flags ask ({@code --strip-credentials}, {@code --forward-user-id}).
 */
public final class ForwardedHeaders {
  private final boolean stripCredentials;
  private final boolean forwardUserId;
  private final String backendAuthority;

  /** @param backendAuthority the backend's {@code host:port}, the Host of a request that named none */
  public ForwardedHeaders(boolean stripCredentials, boolean forwardUserId, String backendAuthority) {
    this.stripCredentials = stripCredentials;
    this.forwardUserId = forwardUserId;
    this.backendAuthority = requireNonNull(backendAuthority, "backendAuthority");
  }

  /** The request as the backend gets it, for the end user {@code userId} (empty when unknown). */
  public RequestHead prepare(RequestHead head, String userId) {
    Headers received = head.headers();
    List<HeaderField> endToEnd = HopByHopHeaders.strip(received).asList();
    Headers headers = received.without(f -> !f.is("Transfer-Encoding") && !f.is("Trailer") && !endToEnd.contains(f));
    if (stripCredentials) {
      headers = headers.without(f -> f.is("Authorization"));
    }
    if (forwardUserId) {
      // Replace rather than add, so that no forged value from the client can come first.
      headers = headers.without(f -> f.is(ProtocolHeaders.USER_ID))
          .plus(new HeaderField(ProtocolHeaders.USER_ID, userId));
    }
    if (!headers.contains("Host")) {
      // HTTP/1.1 needs one; like Go's reverse proxy, name the backend when the client named nothing.
      List<HeaderField> withHost = new ArrayList<>(headers.size() + 1);
      withHost.add(new HeaderField("Host", backendAuthority));
      withHost.addAll(headers.asList());
      headers = Headers.of(withHost);
    }
    return new RequestHead(head.method(), head.target(), headers);
  }
}
