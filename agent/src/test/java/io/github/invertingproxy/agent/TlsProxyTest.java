package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.proxy.ProxyTrust;
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.After;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** An https proxy with a self-signed certificate, made with the JDK's keytool. */
public class TlsProxyTest {
  @ClassRule public static final TemporaryFolder FOLDER = new TemporaryFolder();
  private static SSLContext selfSigned;
  /** The self-signed certificate as PEM: its own authority, as a private CA's file would be. */
  private static Path certificatePem;

  private ScriptedProxy proxy;
  private RawBackend backend;
  private ForwardingAgent agent;
  private LogCapture log;

  @BeforeClass
  public static void makeCertificate() throws Exception {
    Path keystore = FOLDER.getRoot().toPath().resolve("proxy.p12");
    String keytool = System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool";
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-keystore", keystore.toString(),
        "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit", "-alias", "proxy",
        "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1",
        "-validity", "2")
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertTrue("keytool did not finish", p.waitFor(30, TimeUnit.SECONDS));
    assertEquals("keytool failed: " + output, 0, p.exitValue());
    assertTrue(Files.size(keystore) > 0);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(keystore.toFile())) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    certificatePem = FOLDER.getRoot().toPath().resolve("proxy-ca.pem");
    Files.writeString(certificatePem, "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(ks.getCertificate("proxy").getEncoded())
        + "\n-----END CERTIFICATE-----\n");
    selfSigned = SSLContext.getInstance("TLS");
    selfSigned.init(kmf.getKeyManagers(), null, null);
  }

  @Before
  public void startPeers() throws Exception {
    proxy = ScriptedProxy.startTls(selfSigned);
    backend = new RawBackend();
    log = LogCapture.start();
  }

  @After
  public void stopAll() throws Exception {
    if (agent != null) {
      agent.close();
    }
    proxy.close();
    backend.close();
    log.close();
  }

  private void startAgent(boolean disableSslForTest) {
    startAgent(disableSslForTest, null);
  }

  private void startAgent(boolean disableSslForTest, SSLContext proxyTrust) {
    agent = ForwardingAgent.builder()
        .proxyTrust(proxyTrust)
        .proxyUrl(proxy.url())
        .backendId("b")
        .target(backend.hostAndPort())
        .disableSslForTest(disableSslForTest)
        .shutdownGracePeriod(Duration.ofMillis(200))
        .build();
    agent.start();
  }

  @Test
  public void anHttpsProxyWithASelfSignedCertificateWorksWhenSslChecksAreDisabled() throws Exception {
    assertTrue(proxy.url().startsWith("https://"));
    startAgent(true);
    proxy.enqueue("r1", ForwardingAgentTest.bytes("GET /tls HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", Duration.ofSeconds(10));

    assertEquals(200, posted.head.status());
    assertEquals("ok", posted.bodyText());
  }

  @Test
  public void aProxyCertificateFromAnAuthorityGivenAsCaCertIsTrusted() throws Exception {
    startAgent(false, ProxyTrust.systemAnd(certificatePem));
    proxy.enqueue("r1", ForwardingAgentTest.bytes("GET /tls HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", Duration.ofSeconds(10));

    assertEquals(200, posted.head.status());
    assertEquals("ok", posted.bodyText());
  }

  @Test
  public void aSelfSignedCertificateIsRefusedByDefault() throws Exception {
    startAgent(false);

    List<String> failures = log.awaitMessagesContaining("polling the proxy failed", 1, Duration.ofSeconds(10));

    assertEquals(1, failures.size());
    assertTrue(failures.get(0), failures.get(0).contains(
        "the proxy's certificate is not signed by an authority this agent trusts (a private authority's certificate goes in --ca-cert)"));
    assertEquals(0, proxy.pendingPolls());
    assertFalse(proxy.hasResponse("r1"));
  }
}
