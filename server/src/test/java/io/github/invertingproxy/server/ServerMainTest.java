package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.Test;

public class ServerMainTest {
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
        "--admin-bind", "--google-audience", "--iap-audience", "--admins", "--google-certs-url", "--iap-certs-url",
        "--google-tokeninfo-url"}) {
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
