package io.github.invertingproxy.agent;

import static java.util.Objects.requireNonNull;

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
