package io.github.invertingproxy.server;

import static org.junit.Assert.assertArrayEquals;
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
        "--live-window", "--auth", "--tokens-file", "--max-header-bytes", "--max-headers", "--max-threads", "--max-buffered-bytes",
        "--read-header-timeout", "--max-connections", "--debug", "--admin-port", "--admin-bind", "--tls-cert", "--tls-key",
        "--google-audience", "--iap-audience", "--admins", "--google-certs-url", "--iap-certs-url", "--google-tokeninfo-url",
        "--metrics-bind"}) {
      assertTrue(flag + " missing from help", help.contains(flag));
    }
  }

  /** Starts with {@code bytes} as backends.json: exit 2, one line naming the file and {@code problem}, file untouched. */
  private void refusesBackendsFile(byte[] bytes, String problem) throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("data");
    java.nio.file.Path file = dir.resolve("backends.json");
    java.nio.file.Files.write(file, bytes);
    // A server that accepted the file would run until stopped: it is given a minute to refuse it.
    java.util.concurrent.FutureTask<Integer> start = new java.util.concurrent.FutureTask<>(
        () -> run("--port", "0", "--data-dir", dir.toString()));
    Thread thread = new Thread(start, "server-main");
    thread.setDaemon(true);
    thread.start();
    int code;
    try {
      code = start.get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the server started with a backends.json holding " + problem);
    }
    assertEquals(errText(), 2, code);
    // The line after --auth none's warning.
    java.util.List<String> errors = errText().lines().filter(l -> l.startsWith("inverting-proxy-server: ")).toList();
    assertEquals("one line: " + errText(), 1, errors.size());
    assertTrue(errText(), errors.get(0).startsWith("inverting-proxy-server: cannot read backend records from " + file + ": "));
    assertTrue(errText(), errors.get(0).contains(problem));
    assertArrayEquals(bytes, java.nio.file.Files.readAllBytes(file));
  }

  private static final String RECORD = "{\"id\":\"a\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]}";

  @Test
  public void aBackendsFileHoldingNullIsRefused() throws Exception {
    refusesBackendsFile("null".getBytes(StandardCharsets.UTF_8), "null");
  }

  @Test
  public void aBackendsFileWithADuplicateIdIsRefused() throws Exception {
    refusesBackendsFile(("[" + RECORD + "," + RECORD + "]").getBytes(StandardCharsets.UTF_8), "id \"a\" appears twice");
  }

  @Test
  public void aBackendsFileThatIsNotUtf8IsRefused() throws Exception {
    byte[] bytes = ("[" + RECORD.replace("\"a\"", "\"\u00e9\"") + "]").getBytes(StandardCharsets.ISO_8859_1);
    refusesBackendsFile(bytes, "not UTF-8");
  }

  @Test
  public void theBufferBudgetIsAQuarterOfTheHeapUnlessTheFlagSaysOtherwise() throws Exception {
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertEquals(Runtime.getRuntime().maxMemory() / 4,
        ServerMain.configure(new String[0], Map.of(), o, e).bufferBudget().limit());
    assertEquals(8L << 20,
        ServerMain.configure(new String[] {"--max-buffered-bytes", "8MiB"}, Map.of(), o, e).bufferBudget().limit());
  }

  @Test
  public void badLimitsNameTheirFlag() {
    assertEquals(2, run("--max-buffered-bytes", "lots"));
    assertTrue(errText(), errText().startsWith("inverting-proxy-server: invalid value for flag --max-buffered-bytes"));
    err.reset();
    assertEquals(2, run("--max-connections", "0"));
    assertTrue(errText(), errText().contains("maxConnections must be at least 1"));
    err.reset();
    assertEquals(2, run("--read-header-timeout", "0s"));
    assertTrue(errText(), errText().contains("readHeaderTimeout must be positive"));
  }

  @Test
  public void badMetricsBindIsOneClearLine() {
    assertEquals(2, run("--metrics-bind", "localhost"));
    assertEquals("inverting-proxy-server: --metrics-bind must be HOST:PORT (e.g. 127.0.0.1:9090), not \"localhost\"\n", errText());
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

  @Test
  public void iapAuthWithoutAudienceIsOneLine() {
    assertEquals(2, run("--auth", "iap"));
    assertEquals("inverting-proxy-server: --auth iap needs --iap-audience (/projects/NUMBER/global/backendServices/ID"
        + " or /projects/NUMBER/apps/PROJECT_ID)\n", errText());
  }

  @Test
  public void iapAudienceOfAnotherShapeIsRefused() {
    assertEquals(2, run("--auth", "iap", "--iap-audience", "my-client-id.apps.googleusercontent.com"));
    assertTrue(errText(), errText().startsWith("inverting-proxy-server: --iap-audience must be /projects/NUMBER/"));
  }

  @Test
  public void googleFlagsWithoutGoogleAuthAreRefused() {
    assertEquals(2, run("--auth", "none", "--admins", "admin@example.com"));
    assertEquals("inverting-proxy-server: --admins needs --auth google or iap, not --auth none\n", errText());
  }

  @Test
  public void unknownAuthModeNamesTheChoices() {
    assertEquals(2, run("--auth", "google,tokens"));
    assertEquals("inverting-proxy-server: --auth must be none, tokens, google, iap or google,iap, not \"google,tokens\"\n",
        errText());
  }

  @Test
  public void adminWhoIsNotAnEmailIsRefused() {
    assertEquals(2, run("--auth", "google", "--admins", "admin@example.com,root"));
    assertTrue(errText(), errText().endsWith("inverting-proxy-server: --admins: \"root\" is not an email address\n"));
  }

  @Test
  public void googleAndIapTogetherConfigureAServer() throws Exception {
    StandaloneServer server = ServerMain.configure(new String[] {"--auth", "google,iap", "--port", "0", "--admin-port", "0",
        "--google-audience", "https://proxy.example.com", "--iap-audience", "/projects/1/apps/my-project",
        "--admins", "admin@example.com"}, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    server.close();
    assertEquals("", errText());
  }
}