package io.github.invertingproxy.server.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/** A private certificate authority made in the test, issuing server certificates for 127.0.0.1 and localhost. */
public final class TestCertificates {
  private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime() & 0xffffffffL);

  private final KeyPair keys;
  private final X509Certificate certificate;

  private TestCertificates(KeyPair keys, X509Certificate certificate) {
    this.keys = keys;
    this.certificate = certificate;
  }

  /** A new self-signed authority. */
  public static TestCertificates authority(String name) throws Exception {
    KeyPair keys = keyPair("EC");
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder b = builder(subject, subject, keys, nextSerial())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return new TestCertificates(keys, sign(b, keys.getPrivate()));
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** Writes this authority's certificate as PEM, as a private CA's file is handed to clients. */
  public Path writeCertificate(Path file) throws IOException {
    return write(file, pem(certificate));
  }

  /** A client context trusting this authority alone. */
  public SSLContext trustingContext() throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", certificate);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  /** A server certificate signed by this authority, with a key of {@code algorithm} ("RSA" or "EC"). */
  public Issued issue(String algorithm) throws Exception {
    KeyPair server = keyPair(algorithm);
    X500Name issuer = new X500Name(certificate.getSubjectX500Principal().getName());
    X509v3CertificateBuilder b = builder(issuer, new X500Name("CN=localhost"), server, nextSerial())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
        .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress()),
            new GeneralName(GeneralName.dNSName, "localhost")}));
    return new Issued(sign(b, keys.getPrivate()), certificate, server.getPrivate());
  }

  /** A server's certificate, its issuer and its key, to be written as the files a server is given. */
  public record Issued(X509Certificate certificate, X509Certificate issuer, PrivateKey key) {
    public BigInteger serial() {
      return certificate.getSerialNumber();
    }

    /** The server's certificate, then the authority's: a chain as certbot's fullchain.pem. */
    public Path writeChain(Path file) throws IOException {
      return write(file, pem(certificate) + pem(issuer));
    }

    /** The key as PKCS#8 ({@code BEGIN PRIVATE KEY}). */
    public Path writePkcs8Key(Path file) throws IOException {
      return write(file, pem(new JcaPKCS8Generator(key, null)));
    }

    /** The key in OpenSSL's older form: PKCS#1 {@code RSA PRIVATE KEY} or SEC1 {@code EC PRIVATE KEY}. */
    public Path writeTraditionalKey(Path file) throws IOException {
      if (!key.getAlgorithm().equals("EC")) {
        return write(file, pem(key));
      }
      // The JDK's encoding leaves the curve out of the inner SEC1 structure; OpenSSL puts it in.
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
      ECPrivateKey sec1 = new ECPrivateKey(256, inner.getKey(), info.getPrivateKeyAlgorithm().getParameters());
      return write(file, pem(new PemObject("EC PRIVATE KEY", sec1.getEncoded())));
    }
  }

  private static KeyPair keyPair(String algorithm) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
    if (algorithm.equals("EC")) {
      generator.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      generator.initialize(2048);
    }
    return generator.generateKeyPair();
  }

  private static BigInteger nextSerial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys, BigInteger serial) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws Exception {
    String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
  }

  private static String pem(Object o) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(o instanceof JcaPKCS8Generator g ? g.generate() : o);
    }
    return text.toString();
  }

  /** Writes through a temporary file and a rename, as renewal tools do, so a reader never sees half a file. */
  private static Path write(Path file, String text) throws IOException {
    Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".pem", ".tmp");
    try (Writer w = Files.newBufferedWriter(temporary)) {
      w.write(text);
    }
    return Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
