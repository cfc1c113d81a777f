package io.github.invertingproxy.server.tls;

import static java.util.Objects.requireNonNull;

import java.security.KeyStore;
import java.time.Duration;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * HTTPS for the listeners: TLS with the certificate from {@link CertificateFiles}, then HTTP/2 or
 * HTTP/1.1 as the client offers by ALPN (HTTP/1.1 when it offers nothing, as agents and WebSocket
 * clients do). One key store serves every listener, so one reload renews them all.
 */
public final class TlsConnectorFactory {
  private final SslContextFactory.Server tls = new SslContextFactory.Server();
  private final CertificateReloader reloader;

  /**
   * Reads the files at once, so that a bad pair stops the server before it listens.
   *
   * @param checkInterval how often the files are looked at for a renewal
   * @throws CertificateFiles.Unusable naming the file at fault
   */
  public TlsConnectorFactory(CertificateFiles files, Duration checkInterval) throws CertificateFiles.Unusable {
    KeyStore keyStore = requireNonNull(files, "files").toKeyStore();
    tls.setKeyStore(keyStore);
    tls.setKeyStorePassword(new String(CertificateFiles.PASSWORD));
    tls.setKeyManagerPassword(new String(CertificateFiles.PASSWORD));
    this.reloader = new CertificateReloader(files, tls, keyStore, checkInterval);
  }

  /** The watcher of the files; add it to the server so that it starts and stops with it. */
  public CertificateReloader reloader() {
    return reloader;
  }

  /**
   * The protocols of one listener, outermost first.
   *
   * @param http the plain listener's settings; a copy gets the TLS details added
   * @param inputBufferSize as the plain listener's HTTP/1.1 input buffer
   */
  public ConnectionFactory[] connectionFactories(HttpConfiguration http, int inputBufferSize) {
    HttpConfiguration https = new HttpConfiguration(http);
    // Clients check the certificate against the host they asked for; the server need not refuse a
    // request whose Host differs from the name it was reached by (a proxy's clients use many names).
    https.addCustomizer(new SecureRequestCustomizer(false));
    HttpConnectionFactory h1 = new HttpConnectionFactory(https);
    h1.setInputBufferSize(inputBufferSize);
    HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(https);
    ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory(h2.getProtocol(), h1.getProtocol());
    alpn.setDefaultProtocol(h1.getProtocol());
    return new ConnectionFactory[] {new SslConnectionFactory(tls, alpn.getProtocol()), alpn, h2, h1};
  }
}
