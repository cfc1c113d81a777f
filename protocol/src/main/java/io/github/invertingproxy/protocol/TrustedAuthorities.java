package io.github.invertingproxy.protocol;

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
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The certificate authorities an https peer's certificate is accepted from: the system's (the JVM's
 * trust store), plus a private authority's certificate given as a PEM file ({@code --ca-cert} of the
 * agent and of the admin command line).
 */
public final class TrustedAuthorities {
  private TrustedAuthorities() {}

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
