package io.github.invertingproxy.server.tls;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class CertificateFilesTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static TestCertificates ca;
  private static TestCertificates.Issued rsa;
  private static TestCertificates.Issued ec;

  @BeforeClass
  public static void issue() throws Exception {
    ca = TestCertificates.authority("Test CA");
    rsa = ca.issue("RSA");
    ec = ca.issue("EC");
  }

  private static Path file(String name) {
    return TMP.getRoot().toPath().resolve(name);
  }

  private static void assertLoads(TestCertificates.Issued issued, Path cert, Path key) throws Exception {
    KeyStore store = new CertificateFiles(cert, key).toKeyStore();
    java.security.cert.Certificate[] chain = store.getCertificateChain(CertificateFiles.ALIAS);
    assertEquals(2, chain.length);
    assertEquals(issued.serial(), ((X509Certificate) chain[0]).getSerialNumber());
    assertEquals(ca.certificate(), chain[1]);
    assertTrue(store.isKeyEntry(CertificateFiles.ALIAS));
  }

  @Test
  public void rsaKeysLoadAsPkcs8AndAsPkcs1() throws Exception {
    Path chain = rsa.writeChain(file("rsa.pem"));
    assertLoads(rsa, chain, rsa.writePkcs8Key(file("rsa-pkcs8.key")));
    Path pkcs1 = rsa.writeTraditionalKey(file("rsa-pkcs1.key"));
    assertTrue(Files.readString(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
    assertLoads(rsa, chain, pkcs1);
  }

  @Test
  public void ecKeysLoadAsPkcs8AndAsSec1() throws Exception {
    Path chain = ec.writeChain(file("ec.pem"));
    assertLoads(ec, chain, ec.writePkcs8Key(file("ec-pkcs8.key")));
    Path sec1 = ec.writeTraditionalKey(file("ec-sec1.key"));
    assertTrue(Files.readString(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----"));
    assertLoads(ec, chain, sec1);
  }

  @Test
  public void certificateAndKeyMayShareOneFile() throws Exception {
    Path both = file("both.pem");
    Files.writeString(both, Files.readString(ec.writeChain(file("c.pem"))) + Files.readString(ec.writePkcs8Key(file("k.pem"))));
    assertLoads(ec, both, both);
  }

  @Test
  public void garbageCertificateIsNamed() throws Exception {
    Path garbage = Files.writeString(file("garbage.pem"), "this is not a certificate\n");
    CertificateFiles.Unusable e = assertThrows(CertificateFiles.Unusable.class,
        () -> new CertificateFiles(garbage, rsa.writePkcs8Key(file("k1.pem"))).toKeyStore());
    assertEquals(false, e.isKey());
    assertEquals("TLS certificate " + garbage + ": not a PEM certificate (no BEGIN CERTIFICATE block)", e.getMessage());
  }

  @Test
  public void brokenBase64IsNamed() throws Exception {
    Path broken = Files.writeString(file("broken.pem"), "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    CertificateFiles.Unusable e = assertThrows(CertificateFiles.Unusable.class,
        () -> new CertificateFiles(broken, rsa.writePkcs8Key(file("k2.pem"))).toKeyStore());
    assertTrue(e.getMessage(), e.getMessage().startsWith("TLS certificate " + broken + ": not a PEM certificate"));
  }

  @Test
  public void aCertificateInPlaceOfTheKeyIsNamed() throws Exception {
    Path chain = rsa.writeChain(file("rsa2.pem"));
    CertificateFiles.Unusable e = assertThrows(CertificateFiles.Unusable.class,
        () -> new CertificateFiles(chain, chain).toKeyStore());
    assertEquals("TLS key " + chain + ": not a PEM private key", e.getMessage());
  }

  @Test
  public void keyOfAnotherCertificateIsRefused() throws Exception {
    Path chain = rsa.writeChain(file("rsa3.pem"));
    Path otherKey = ca.issue("RSA").writePkcs8Key(file("other.key"));
    CertificateFiles.Unusable e = assertThrows(CertificateFiles.Unusable.class,
        () -> new CertificateFiles(chain, otherKey).toKeyStore());
    assertTrue(e.isKey());
    assertEquals("TLS key " + otherKey + ": does not match the certificate in " + chain, e.getMessage());
  }

  @Test
  public void keyOfAnotherAlgorithmIsRefused() throws Exception {
    Path chain = rsa.writeChain(file("rsa4.pem"));
    Path ecKey = ec.writePkcs8Key(file("ec.key"));
    CertificateFiles.Unusable e = assertThrows(CertificateFiles.Unusable.class,
        () -> new CertificateFiles(chain, ecKey).toKeyStore());
    assertTrue(e.getMessage(), e.getMessage().endsWith("does not match the certificate in " + chain));
  }

  @Test
  public void missingFileIsNamed() throws Exception {
    Path missing = file("nope.pem");
    CertificateFiles.Unusable e = assertThrows(CertificateFiles.Unusable.class,
        () -> new CertificateFiles(rsa.writeChain(file("rsa5.pem")), missing).toKeyStore());
    assertEquals("TLS key " + missing + ": no such file", e.getMessage());
  }
}
