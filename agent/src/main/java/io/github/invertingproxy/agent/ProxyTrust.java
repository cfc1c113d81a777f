package io.github.invertingproxy.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The certificate authorities the agent accepts an https proxy's certificate from: the system's
 * (the JVM's trust store), plus a private authority given with {@code --ca-cert}, as a proxy with a
 * company's own certificates needs.
 */
public final class ProxyTrust {
  private ProxyTrust() {}

  /**
   * A context trusting the system's authorities and every certificate in a PEM file.
   *
   * @throws IOException with a one-line message naming the file and what is wrong with it
   */
  public static SSLContext systemAnd(Path pemFile) throws IOException {
    Collection<? extends Certificate> added;
    try (InputStream in = Files.newInputStream(pemFile)) {
      added = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (NoSuchFileException e) {
      throw new IOException(pemFile + ": no such file");
    } catch (CertificateException e) {
      throw new IOException(pemFile + ": not a PEM certificate (" + e.getMessage() + ")");
    }
    if (added.isEmpty()) {
      throw new IOException(pemFile + ": not a PEM certificate (no BEGIN CERTIFICATE block)");
    }
    try {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      int n = 0;
      for (X509Certificate system : systemTrustManager().getAcceptedIssuers()) {
        trusted.setCertificateEntry("system-" + n++, system);
      }
      for (Certificate certificate : added) {
        trusted.setCertificateEntry("added-" + n++, certificate);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException(pemFile + ": cannot be trusted: " + e.getMessage(), e);
    }
  }

  /** A failure's message, with a hint when the proxy's certificate was the reason. */
  static String describe(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLHandshakeException && String.valueOf(t.getMessage()).contains("PKIX")) {
        return "the proxy's certificate is not signed by an authority this agent trusts"
            + " (a private authority's certificate goes in --ca-cert): " + t.getMessage();
      }
    }
    return e.getMessage();
  }

  private static X509TrustManager systemTrustManager() throws GeneralSecurityException {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("the JVM has no X.509 trust manager");
  }
}
