package io.github.invertingproxy.server;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.server.tls.CertificateFiles;
import io.github.invertingproxy.server.tls.CertificateReloader;
import io.github.invertingproxy.server.tls.TlsConnectorFactory;
import java.time.Duration;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The stand-alone server's two listeners, added to its Jetty: the public port (clients and agents)
 * and the admin port, both plain HTTP/1.1 or both TLS, each with its own connection cap, and every
 * HTTP/1.1 request head held to the read-header deadline.
 */
final class Listeners {
  /**
   * Jetty's input and output buffers. A large body crosses in pieces of this size; 32 KiB cost the
   * server about 8 % less CPU per 1 MiB response than 64 KiB (less of the cache for sixteen streams'
   * buffers), with 16 KiB and 256 KiB both worse (docs/performance-history.md, "Eighth round").
   */
  private static final int BUFFER_SIZE = 32 * 1024;
  /**
   * Connections the kernel completes while the acceptor is busy. With the JDK's default of 50, a
   * burst of clients (a thousand at once) loses the rest of its connects, which retry only after a
   * second or more; the kernel caps this at {@code net.core.somaxconn}.
   */
  private static final int ACCEPT_QUEUE = 1024;

  final ServerConnector main;
  final ServerConnector admin;
  /** Null when the listeners speak plain HTTP. */
  final CertificateReloader certificates;
  private final HeaderDeadline headerDeadline;

  /**
   * @param certificateFiles null: plain HTTP
   * @param adminBind null: where {@code bind} is
   */
  Listeners(Server jetty, ProxySettings settings, CertificateFiles certificateFiles, Duration certificateCheckInterval,
      Duration readHeaderTimeout, int maxConnections, String bind, int port, String adminBind, int adminPort)
      throws CertificateFiles.Unusable {
    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(settings.messageLimits().maxLineLength());
    http.setSendServerVersion(false);
    // Responses relayed from a backend carry the backend's Date; the servlets date their own answers.
    http.setSendDateHeader(false);
    http.setSendXPoweredBy(false);
    // Jetty lets every target it can parse through to the servlets undecoded: the proxy's one rule
    // (RequestTarget) decides which are refused, and with which reason. Stricter modes answered some
    // (a backslash, "..;", an escape that is not UTF-8) with a page of Jetty's own.
    http.setUriCompliance(UriCompliance.UNSAFE);
    // Relayed bodies arrive and leave in pieces of up to 64 KiB; larger buffers than Jetty's defaults
    // (8 KiB in, 32 KiB out) take each in one read and one write. Jetty's buffer pool keeps buffers of
    // up to 64 KiB; larger ones would be allocated afresh for every response.
    http.setOutputBufferSize(BUFFER_SIZE);
    // With a certificate, both listeners speak HTTPS (HTTP/2 or HTTP/1.1 by ALPN) and nothing else.
    TlsConnectorFactory tls = certificateFiles == null ? null
        : new TlsConnectorFactory(certificateFiles, certificateCheckInterval);
    this.certificates = tls == null ? null : tls.reloader();
    if (certificates != null) {
      jetty.addBean(certificates);
    }
    this.headerDeadline = new HeaderDeadline(readHeaderTimeout);
    this.main = new ServerConnector(jetty, factories(http, tls, headerDeadline));
    main.setHost(bind);
    main.setPort(port);
    main.setAcceptQueueSize(ACCEPT_QUEUE);
    main.setIdleTimeout(Math.max(settings.pendingTimeout().toMillis(), settings.responseTimeout().toMillis()) + 30_000);
    main.addBean(headerDeadline);
    jetty.addConnector(main);
    // At the cap the connector stops accepting: new connections wait in the kernel's queue.
    jetty.addBean(new NetworkConnectionLimit(maxConnections, main));
    this.admin = new ServerConnector(jetty, factories(http, tls, headerDeadline));
    admin.setHost(adminBind != null ? adminBind : bind);
    admin.setPort(adminPort);
    jetty.addConnector(admin);
    // A cap of its own, so that a flood of clients on the public port cannot lock the administrator out.
    jetty.addBean(new NetworkConnectionLimit(maxConnections, admin));
  }

  /** The server's handler, with the read-header deadline applied to the requests it sees. */
  Handler handler(Handler endpoints) {
    return headerDeadline.wrap(endpoints);
  }

  /** A listener's base URL, ending with {@code /}. */
  String url(ServerConnector listener) {
    String host = listener.getHost() == null || listener.getHost().equals("0.0.0.0") ? "127.0.0.1" : listener.getHost();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return (certificates == null ? "http://" : "https://") + host + ":" + listener.getLocalPort() + "/";
  }

  /**
   * A listener's protocols: HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1 by ALPN. HTTP/1.1 heads are held
   * to the read-header deadline.
   */
  private static ConnectionFactory[] factories(HttpConfiguration http, TlsConnectorFactory tls, HeaderDeadline deadline) {
    ConnectionFactory[] factories;
    if (tls == null) {
      HttpConnectionFactory h1 = new HttpConnectionFactory(http);
      h1.setInputBufferSize(BUFFER_SIZE);
      factories = new ConnectionFactory[] {h1};
    } else {
      factories = tls.connectionFactories(http, BUFFER_SIZE);
    }
    for (ConnectionFactory f : factories) {
      if (f instanceof HttpConnectionFactory h1) {
        h1.addEventListener(deadline.tracks());
      }
    }
    return factories;
  }
}
