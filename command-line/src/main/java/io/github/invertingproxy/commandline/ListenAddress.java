package io.github.invertingproxy.commandline;

import java.net.InetSocketAddress;
import java.net.URI;

/** A {@code HOST:PORT} flag value ({@code [::1]:9090} for IPv6) naming where a listener binds. */
public final class ListenAddress {
  private ListenAddress() {}

  /**
   * Parses {@code value}, left unresolved.
   *
   * @throws IllegalArgumentException naming {@code flag} and showing {@code example} when it is not one
   */
  public static InetSocketAddress parse(String flag, String value, String example) {
    URI uri;
    try {
      uri = URI.create("tcp://" + value);
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null || uri.getHost() == null || uri.getPort() < 0 || uri.getPath() == null || !uri.getPath().isEmpty()) {
      throw new IllegalArgumentException(flag + " must be HOST:PORT (e.g. " + example + "), not \"" + value + "\"");
    }
    String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
    return InetSocketAddress.createUnresolved(host, uri.getPort());
  }
}
