package io.github.invertingproxy.agent.http;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Where a connection goes: host and port, over TLS or not, and the authority as the user wrote it
 * (the {@code Host} header of the agent's own calls).
 */
public record Origin(boolean tls, String host, int port, String authority) {
  public Origin {
    requireNonNull(host, "host");
    requireNonNull(authority, "authority");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range");
    }
  }

  /**
   * The proxy's base URL: {@code http} or {@code https}, a host, an optional port and path. A missing
   * final {@code /} is added, because every agent path is appended to it.
   *
   * @return the origin and the base path, which starts and ends with {@code /}
   */
  public static ProxyBase parseProxyUrl(String url) {
    requireNonNull(url, "url");
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("proxy URL \"" + url + "\" is not a URL: " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "proxy URL \"" + url + "\" must start with http:// or https://");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("proxy URL \"" + url + "\" has no host");
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "proxy URL \"" + url + "\" must not have user info, a query or a fragment");
    }
    boolean tls = scheme.equals("https");
    int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (!path.endsWith("/")) {
      path = path + "/";
    }
    Origin origin = new Origin(tls, uri.getHost(), port, uri.getRawAuthority());
    return new ProxyBase(origin, path, scheme + "://" + uri.getRawAuthority() + path);
  }

  /**
   * The backend: {@code host:port}, or {@code http://host:port} as the Docker image's users write it.
   * A missing port means 80. The backend is always reached over plain HTTP, as by the original.
   */
  public static Origin parseBackend(String target) {
    requireNonNull(target, "target");
    String text = target.trim();
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.startsWith("https://")) {
      throw new IllegalArgumentException(
          "backend \"" + target + "\" uses https; the agent reaches its backend over plain HTTP, give host:port");
    }
    if (lower.startsWith("http://")) {
      text = text.substring("http://".length());
    }
    if (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    URI uri;
    try {
      uri = new URI("http://" + text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("backend \"" + target + "\" is not host:port");
    }
    if (uri.getHost() == null || uri.getRawUserInfo() != null || !uri.getRawPath().isEmpty()
        || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("backend \"" + target + "\" is not host:port");
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : 80;
    return new Origin(false, uri.getHost(), port, uri.getRawAuthority());
  }

  @Override
  public String toString() {
    return authority;
  }

  /** The proxy's origin and the base path that the agent paths are appended to. */
  public record ProxyBase(Origin origin, String basePath, String url) {
    public String target(String agentPath) {
      return basePath + agentPath;
    }

    /** The {@code ws://} or {@code wss://} URL of an agent path, as the base is http or https. */
    public URI webSocket(String agentPath) {
      return URI.create((origin.tls() ? "wss" : "ws") + "://" + origin.authority() + basePath + agentPath);
    }

    @Override
    public String toString() {
      return url;
    }
  }
}
