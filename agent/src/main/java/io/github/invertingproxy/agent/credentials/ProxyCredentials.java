package io.github.invertingproxy.agent.credentials;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.protocol.Headers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How the agent proves itself to the proxy: the {@code Authorization} header value sent on every
 * proxy call. Asked once per call, so an implementation may refresh its token whenever it likes.
 * Implementations must be safe for use from several threads.
 */
public interface ProxyCredentials {
  /**
   * The value of the {@code Authorization} header for the next proxy call, such as
   * {@code Bearer ya29...}, or empty to send none.
   *
   * @throws IOException when the credential cannot be obtained; the call then fails like a network
   *     error and is retried as one
   */
  Optional<String> authorizationHeader() throws IOException;

  /**
   * Headers besides {@code Authorization} for every proxy call, such as {@code X-Inverting-Proxy-VM-ID}
   * on a GCE VM. Asked once per call; must not block (refresh such values in the background).
   */
  default Headers otherHeaders() {
    return Headers.empty();
  }

  /** Tells {@code observer} of every refresh of the credential and every failed one; by default there are none. */
  default void observeRefreshes(AgentObserver observer) {}

  /** No {@code Authorization} header: for a proxy without agent authentication. */
  static ProxyCredentials none() {
    return NoCredentials.INSTANCE;
  }

  /**
   * {@code Authorization: Bearer <token>}, where the token is the file's content without surrounding
   * white space. The file is read again whenever it changes, so a sidecar may rotate the token.
   */
  static ProxyCredentials tokenFile(Path path) {
    return new TokenFileCredentials(requireNonNull(path, "path"));
  }

  /**
   * A Google OAuth access token (scopes cloud-platform and email) from the first source that works:
   * the gcloud SDK's active account, Application Default Credentials, the GCE metadata server. The
   * source is looked for on first use; the token is refreshed in the background before it expires.
   */
  static ProxyCredentials google() {
    return new GoogleProxyCredentials(null, System.getenv(), null);
  }

  /**
   * A Google-signed OIDC ID token for {@code audience}, for a proxy behind Identity-Aware Proxy or any
   * front that checks ID tokens; from the same sources as {@link #google()}.
   */
  static ProxyCredentials googleIdToken(String audience) {
    requireNonNull(audience, "audience");
    if (audience.isBlank()) {
      throw new IllegalArgumentException("ID token audience is empty");
    }
    return new GoogleProxyCredentials(audience, System.getenv(), null);
  }
}

/** The credentials of a proxy that does not authenticate agents. */
final class NoCredentials implements ProxyCredentials {
  static final NoCredentials INSTANCE = new NoCredentials();

  private NoCredentials() {}

  @Override
  public Optional<String> authorizationHeader() {
    return Optional.empty();
  }

  @Override
  public String toString() {
    return "none";
  }
}
