package io.github.invertingproxy.server.tls;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.server.StandaloneServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class HttpsListenerTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private TestCertificates ca;
  private Path cert;
  private Path key;
  private StandaloneServer server;
  private SSLContext trusting;

  @Before
  public void start() throws Exception {
    ca = TestCertificates.authority("Listener Test CA");
    TestCertificates.Issued issued = ca.issue("EC");
    cert = issued.writeChain(tmp.getRoot().toPath().resolve("fullchain.pem"));
    key = issued.writeTraditionalKey(tmp.getRoot().toPath().resolve("privkey.pem"));
    trusting = ca.trustingContext();
    server = StandaloneServer.builder().port(0).tls(new CertificateFiles(cert, key))
        .certificateCheckInterval(Duration.ofMillis(100)).build().start();
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  private HttpClient client(HttpClient.Version version) {
    return HttpClient.newBuilder().version(version).sslContext(trusting).connectTimeout(Duration.ofSeconds(5)).build();
  }

  private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static BigInteger serialOf(HttpResponse<?> response) throws Exception {
    return ((X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0]).getSerialNumber();
  }

  @Test
  public void bothListenersSpeakHttps() {
    assertTrue(server.url(), server.url().startsWith("https://127.0.0.1:"));
    assertTrue(server.adminUrl(), server.adminUrl().startsWith("https://127.0.0.1:"));
  }

  @Test
  public void aClientOfferingHttp2GetsHttp2OnBothListeners() throws Exception {
    HttpClient h2 = client(HttpClient.Version.HTTP_2);

    HttpResponse<String> admin = get(h2, server.adminUrl() + "api/backends");
    HttpResponse<String> proxy = get(h2, server.url() + "nowhere");

    assertEquals(HttpClient.Version.HTTP_2, admin.version());
    assertEquals(200, admin.statusCode());
    assertEquals("[]", admin.body());
    assertEquals(HttpClient.Version.HTTP_2, proxy.version());
    assertEquals(404, proxy.statusCode());
    assertTrue(proxy.body(), proxy.body().startsWith("Not found: no backend is registered for /nowhere"));
  }

  @Test
  public void aClientOfferingOnlyHttp11GetsHttp11() throws Exception {
    HttpResponse<String> admin = get(client(HttpClient.Version.HTTP_1_1), server.adminUrl() + "api/backends");

    assertEquals(HttpClient.Version.HTTP_1_1, admin.version());
    assertEquals("[]", admin.body());
  }

  @Test
  public void aClientThatDoesNotTrustTheAuthorityIsRefused() {
    HttpClient systemTrust = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    IOException e = assertThrows(IOException.class, () -> get(systemTrust, server.adminUrl() + "api/backends"));

    assertTrue(String.valueOf(e), e instanceof javax.net.ssl.SSLHandshakeException
        || e.getCause() instanceof javax.net.ssl.SSLHandshakeException);
  }

  @Test
  public void renewedFilesReachNewConnectionsWhileAnOpenOneKeepsWorking() throws Exception {
    BigInteger first = server.certificates().serial();
    try (SSLSocket longLived = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", server.port())) {
      longLived.setSoTimeout(10_000);
      assertEquals("404", exchange(longLived, server.port()));
      assertEquals(first, ((X509Certificate) longLived.getSession().getPeerCertificates()[0]).getSerialNumber());

      TestCertificates.Issued renewed = ca.issue("RSA");
      renewed.writePkcs8Key(key); // key first, then the chain, as a renewal tool might: the half-way pair is skipped
      renewed.writeChain(cert);
      awaitSerial(renewed.serial());

      // A fresh client makes a new connection, which gets the renewed certificate.
      HttpResponse<String> after = get(client(HttpClient.Version.HTTP_2), server.url() + "nowhere");
      assertEquals(renewed.serial(), serialOf(after));
      // The connection made before the renewal still carries requests, with the certificate it began with.
      assertEquals("404", exchange(longLived, server.port()));
      assertEquals(first, ((X509Certificate) longLived.getSession().getPeerCertificates()[0]).getSerialNumber());
      assertNotEquals(first, renewed.serial());
    }
  }

  @Test
  public void aBrokenRenewalKeepsThePreviousCertificate() throws Exception {
    BigInteger first = server.certificates().serial();
    java.nio.file.Files.writeString(cert, "half a file");
    TestCertificates.Issued renewed = ca.issue("EC");
    // Only a valid pair is taken: the garbage above is logged and skipped, the next change is tried again.
    Thread.sleep(500);
    assertEquals(first, serialOf(get(client(HttpClient.Version.HTTP_1_1), server.adminUrl() + "api/backends")));
    renewed.writeTraditionalKey(key);
    renewed.writeChain(cert);
    awaitSerial(renewed.serial());
    assertEquals(renewed.serial(), serialOf(get(client(HttpClient.Version.HTTP_1_1), server.adminUrl() + "api/backends")));
  }

  private void awaitSerial(BigInteger serial) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!server.certificates().serial().equals(serial)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the renewed certificate was not loaded within 10 s");
      }
      Thread.sleep(20);
    }
  }

  /** One HTTP/1.1 request on an open connection; returns the status code. */
  private static String exchange(SSLSocket socket, int port) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(("GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("connection closed after " + head);
      }
      head.append((char) c);
    }
    int length = Integer.parseInt(head.toString().replaceAll("(?is).*content-length: *(\\d+).*", "$1"));
    in.readNBytes(length);
    return head.substring(9, 12);
  }
}
