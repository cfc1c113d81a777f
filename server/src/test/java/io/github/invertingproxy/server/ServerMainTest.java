package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.server.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ServerMainTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return ServerMain.run(args, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String errText() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void unknownFlagExitsWithTwoAndOneLine() {
    assertEquals(2, run("--nope"));
    assertEquals("inverting-proxy-server: unknown flag --nope (run inverting-proxy-server --help for the list)\n", errText());
  }

  @Test
  public void badDurationNamesTheFlag() {
    assertEquals(2, run("--response-timeout", "soon"));
    assertTrue(errText(), errText().startsWith("inverting-proxy-server: invalid value for flag --response-timeout"));
  }

  @Test
  public void tokensAuthWithoutFileIsRefused() {
    assertEquals(2, run("--auth", "tokens"));
    assertEquals("inverting-proxy-server: --auth tokens needs --tokens-file\n", errText());
  }

  @Test
  public void missingTokensFileIsRefused() {
    assertEquals(2, run("--auth", "tokens", "--tokens-file", "/nonexistent/tokens"));
    assertTrue(errText(), errText().contains("/nonexistent/tokens does not exist"));
  }

  @Test
  public void helpListsEveryFlagAndExitsZero() {
    assertEquals(0, run("--help"));
    String help = out.toString(StandardCharsets.UTF_8);
    for (String flag : new String[] {"--port", "--bind", "--data-dir", "--response-timeout", "--pending-timeout",
        "--live-window", "--auth", "--tokens-file", "--max-header-bytes", "--max-headers", "--max-threads", "--debug", "--admin-port",
        "--admin-bind", "--tls-cert", "--tls-key"}) {
      assertTrue(flag + " missing from help", help.contains(flag));
    }
  }

  @Test
  public void portInUseIsOneClearLine() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertEquals(1, run("--port", Integer.toString(taken.getLocalPort()), "--admin-port", "0"));
      assertTrue(errText(), errText().contains("cannot start"));
    }
  }

  /** Runs with valid tokens (no warning about --auth none) and the given TLS flags; returns the exit code. */
  private int runWithTls(String... tlsFlags) throws Exception {
    String[] args = new String[tlsFlags.length + 4];
    args[0] = "--auth";
    args[1] = "tokens";
    args[2] = "--tokens-file";
    args[3] = TestTokens.write(tmp.getRoot().toPath()).toString();
    System.arraycopy(tlsFlags, 0, args, 4, tlsFlags.length);
    return run(args);
  }

  @Test
  public void tlsCertificateWithoutKeyIsRefused() throws Exception {
    assertEquals(2, runWithTls("--tls-cert", "/some/fullchain.pem"));
    assertEquals("inverting-proxy-server: --tls-cert needs --tls-key\n", errText());
  }

  @Test
  public void tlsKeyWithoutCertificateIsRefused() throws Exception {
    assertEquals(2, runWithTls("--tls-key", "/some/privkey.pem"));
    assertEquals("inverting-proxy-server: --tls-key needs --tls-cert\n", errText());
  }

  @Test
  public void garbageCertificateIsOneLineNamingTheFlag() throws Exception {
    TestCertificates.Issued issued = TestCertificates.authority("CA").issue("EC");
    Path garbage = Files.writeString(tmp.getRoot().toPath().resolve("cert.pem"), "garbage\n");
    Path key = issued.writePkcs8Key(tmp.getRoot().toPath().resolve("key.pem"));
    assertEquals(2, runWithTls("--tls-cert", garbage.toString(), "--tls-key", key.toString()));
    assertEquals("inverting-proxy-server: --tls-cert " + garbage + ": not a PEM certificate (no BEGIN CERTIFICATE block)\n",
        errText());
  }

  @Test
  public void keyOfAnotherCertificateIsOneLineNamingTheFlag() throws Exception {
    TestCertificates ca = TestCertificates.authority("CA");
    Path cert = ca.issue("EC").writeChain(tmp.getRoot().toPath().resolve("cert.pem"));
    Path key = ca.issue("EC").writePkcs8Key(tmp.getRoot().toPath().resolve("key.pem"));
    assertEquals(2, runWithTls("--tls-cert", cert.toString(), "--tls-key", key.toString()));
    assertEquals("inverting-proxy-server: --tls-key " + key + ": does not match the certificate in " + cert + "\n",
        errText());
  }

  @Test
  public void missingKeyFileIsOneLineNamingTheFlag() throws Exception {
    Path cert = TestCertificates.authority("CA").issue("EC").writeChain(tmp.getRoot().toPath().resolve("cert.pem"));
    assertEquals(2, runWithTls("--tls-cert", cert.toString(), "--tls-key", "/nonexistent/key.pem"));
    assertEquals("inverting-proxy-server: --tls-key /nonexistent/key.pem: no such file\n", errText());
  }
}
