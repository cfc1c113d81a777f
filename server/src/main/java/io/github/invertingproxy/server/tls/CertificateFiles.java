package io.github.invertingproxy.server.tls;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The listener's certificate chain and private key, as PEM files the way certbot and cert-manager
 * write them: the certificate file holds the server's certificate first and any intermediates after
 * it; the key file holds one unencrypted key, PKCS#8 ({@code PRIVATE KEY}) or the older PKCS#1 /
 * SEC1 forms ({@code RSA PRIVATE KEY}, {@code EC PRIVATE KEY}). Both may be one and the same file.
 */
public record CertificateFiles(Path certificate, Path key) {
  /** The alias and password of the single entry in the in-memory key store. */
  static final String ALIAS = "server";
  static final char[] PASSWORD = "in-memory".toCharArray();

  public CertificateFiles {
    requireNonNull(certificate, "certificate");
    requireNonNull(key, "key");
  }

  /**
   * Reads both files into an in-memory PKCS#12 key store, after checking that the key belongs to the
   * first certificate.
   *
   * @throws Unusable naming the file at fault and why
   */
  public KeyStore toKeyStore() throws Unusable {
    List<X509Certificate> chain = readChain();
    PrivateKey privateKey = readKey();
    if (!belongTogether(privateKey, chain.get(0).getPublicKey())) {
      throw new Unusable(true, key, "does not match the certificate in " + certificate);
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(ALIAS, privateKey, PASSWORD, chain.toArray(new Certificate[0]));
      return store;
    } catch (IOException | GeneralSecurityException e) {
      throw new Unusable(true, key, "cannot be stored with its certificate: " + e.getMessage());
    }
  }

  /** The chain in the certificate file, the server's own certificate first. */
  List<X509Certificate> readChain() throws Unusable {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    for (Object o : pemObjects(false, certificate, "a PEM certificate")) {
      if (o instanceof X509CertificateHolder holder) {
        try {
          chain.add(converter.getCertificate(holder));
        } catch (CertificateException e) {
          throw new Unusable(false, certificate, "not a valid certificate: " + e.getMessage());
        }
      }
    }
    if (chain.isEmpty()) {
      throw new Unusable(false, certificate, "not a PEM certificate (no BEGIN CERTIFICATE block)");
    }
    return chain;
  }

  private PrivateKey readKey() throws Unusable {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    for (Object o : pemObjects(true, key, "a PEM private key")) {
      try {
        if (o instanceof PEMKeyPair pair) { // PKCS#1 RSA or SEC1 EC
          return converter.getPrivateKey(pair.getPrivateKeyInfo()); // SEC1 may omit the public half
        }
        if (o instanceof PrivateKeyInfo info) { // PKCS#8
          return converter.getPrivateKey(info);
        }
      } catch (IOException e) {
        throw new Unusable(true, key, "not a usable private key: " + e.getMessage());
      }
      if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
        throw new Unusable(true, key, "the private key is encrypted; give it without a passphrase");
      }
    }
    throw new Unusable(true, key, "not a PEM private key");
  }

  private static List<Object> pemObjects(boolean isKey, Path file, String expected) throws Unusable {
    List<Object> objects = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(file); PEMParser pem = new PEMParser(in)) {
      for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
        objects.add(o);
      }
    } catch (NoSuchFileException e) {
      throw new Unusable(isKey, file, "no such file");
    } catch (IOException | RuntimeException e) {
      // Bouncy Castle reports broken base64 or ASN.1 as either kind.
      throw new Unusable(isKey, file, "not " + expected + " (" + e.getMessage() + ")");
    }
    return objects;
  }

  /** Whether a signature by the private key verifies with the public one: works for RSA, EC and EdDSA alike. */
  private static boolean belongTogether(PrivateKey privateKey, PublicKey publicKey) {
    String algorithm = switch (publicKey.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> publicKey.getAlgorithm();
      default -> null;
    };
    if (algorithm == null) {
      return true; // a kind of key not checked here; the TLS handshake still needs the pair to match
    }
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** A certificate or key file that cannot serve: says which file and why, in one line. */
  public static final class Unusable extends IOException {
    private static final long serialVersionUID = 1L;
    private final boolean isKey;
    private final transient Path file;
    private final String problem;

    Unusable(boolean isKey, Path file, String problem) {
      super((isKey ? "TLS key " : "TLS certificate ") + file + ": " + problem);
      this.isKey = isKey;
      this.file = file;
      this.problem = problem;
    }

    /** True when the key file is at fault, false for the certificate file. */
    public boolean isKey() {
      return isKey;
    }

    public Path file() {
      return file;
    }

    public String problem() {
      return problem;
    }
  }
}
