package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.commandline.Flags;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class AgentMainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return AgentMain.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String errText() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void theDefaultsAreTheOriginalAgents() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[] {"--proxy", "http://p/", "--backend", "b"}, Map.of());

    assertEquals("localhost:8080", o.host());
    assertEquals(Duration.ofSeconds(60), o.proxyTimeout());
    assertEquals(Duration.ZERO, o.requestForwardingTimeout());
    assertFalse(o.forwardUserId());
    assertFalse(o.stripCredentials());
    assertFalse(o.debug());
    assertFalse(o.disableSslForTest());
    assertEquals("google", o.credentials().toString());
    assertEquals(64, o.maxConcurrentRequests());
    assertEquals(Duration.ZERO, o.gracefulShutdownTimeout());
  }

  @Test
  public void aProxyUrlWithoutAFinalSlashGetsOne() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[] {"-proxy=https://p.example.com/x", "-backend=b"}, Map.of());

    assertEquals("https://p.example.com/x/", o.proxyUrl());
  }

  @Test
  public void theDockerEnvironmentVariablesAreFallbacks() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[0],
        Map.of("PROXY", "http://env-proxy/", "BACKEND", "env-backend", "PORT", "9000"));

    assertEquals("http://env-proxy/", o.proxy());
    assertEquals("env-backend", o.backend());
    assertEquals("localhost:9000", o.host());
  }

  @Test
  public void hostnameAndPortFromTheEnvironmentNameTheBackendTogether() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[0],
        Map.of("PROXY", "http://p/", "BACKEND", "b", "HOSTNAME", "app", "PORT", "9000"));

    assertEquals("app:9000", o.host());
  }

  @Test
  public void hostnameAloneDoesNotChangeTheBackend() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[0], Map.of("PROXY", "http://p/", "BACKEND", "b", "HOSTNAME", "box"));

    assertEquals("localhost:8080", o.host());
  }

  @Test
  public void theCommandLineWinsOverTheEnvironment() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[] {"--proxy", "http://flag/", "--host", "backend:1"},
        Map.of("PROXY", "http://env/", "BACKEND", "b", "PORT", "9000", "PROXY_TIMEOUT", "90s"));

    assertEquals("http://flag/", o.proxy());
    assertEquals("backend:1", o.host());
    assertEquals(Duration.ofSeconds(90), o.proxyTimeout());
  }

  @Test
  public void timeoutsAndSwitchesTakeGoSyntax() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[] {"--proxy=http://p/", "--backend=b", "--proxy-timeout=1m30s",
        "--request-forwarding-timeout", "2m", "--forward-user-id", "--strip-credentials=true", "--debug",
        "--credentials", "token-file:/run/token"}, Map.of());

    assertEquals(Duration.ofSeconds(90), o.proxyTimeout());
    assertEquals(Duration.ofMinutes(2), o.requestForwardingTimeout());
    assertTrue(o.forwardUserId());
    assertTrue(o.stripCredentials());
    assertTrue(o.debug());
    assertEquals("token-file:/run/token", o.credentials().toString());
  }

  @Test
  public void aMissingProxyExitsWith2AndOneErrorLine() {
    int status = run(Map.of(), "--backend", "b");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: missing --proxy (or PROXY): the URL of the inverting proxy,"
        + " such as https://proxy.example.com/" + System.lineSeparator(), errText());
  }

  @Test
  public void aMissingBackendExitsWith2AndOneErrorLine() {
    int status = run(Map.of("PROXY", "http://p/"));

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: missing --backend (or BACKEND): the ID of the backend this agent serves"
        + System.lineSeparator(), errText());
  }

  @Test
  public void anUnknownFlagExitsWith2() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--no-such-flag");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: unknown flag --no-such-flag (run inverting-proxy-agent --help for the list)"
        + System.lineSeparator(), errText());
  }

  @Test
  public void anInvalidProxyUrlExitsWith2AndNamesTheFlag() {
    int status = run(Map.of(), "--proxy", "proxy.example.com", "--backend", "b");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: invalid --proxy: proxy URL \"proxy.example.com\" must start with http://"
        + " or https://" + System.lineSeparator(), errText());
  }

  @Test
  public void anInvalidPortFromTheEnvironmentExitsWith2() {
    int status = run(Map.of("PROXY", "http://p/", "BACKEND", "b", "PORT", "http"));

    assertEquals(2, status);
    assertTrue(errText(), errText().startsWith("inverting-proxy-agent: invalid --host (or PORT): "));
  }

  @Test
  public void anInvalidCredentialsValueExitsWith2() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--credentials", "gcloud");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: invalid --credentials \"gcloud\": expected google, id-token,"
        + " token-file:PATH or none"
        + System.lineSeparator(), errText());
  }

  @Test
  public void anUnreadableTokenFileExitsWith1() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--credentials",
        "token-file:/nonexistent/token");

    assertEquals(1, status);
    assertEquals("inverting-proxy-agent: --credentials token-file:/nonexistent/token: token file"
        + " /nonexistent/token does not exist" + System.lineSeparator(), errText());
  }

  @Test
  public void helpPrintsEveryFlagAndExitsWith0() {
    int status = run(Map.of(), "--help");

    assertEquals(0, status);
    String help = out.toString(StandardCharsets.UTF_8);
    for (String flag : new String[] {"--proxy string", "--backend string", "--host string", "--proxy-timeout duration",
        "--request-forwarding-timeout duration", "--forward-user-id", "--strip-credentials", "--credentials string",
        "--debug", "--disable-ssl-for-test", "--channel", "--metrics-bind string"}) {
      assertTrue(flag, help.contains("  " + flag + "\n"));
    }
    assertEquals("", errText());
  }

  @Test
  public void aMetricsBindThatIsNotHostAndPortIsRefusedInOneLine() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--metrics-bind", "9091");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: --metrics-bind must be HOST:PORT (e.g. 127.0.0.1:9091), not \"9091\""
        + System.lineSeparator(), errText());
  }

  @Test
  public void theChannelIsOnByDefaultAndChannelFalseTurnsItOff() throws Flags.UsageException {
    String[] base = {"--proxy", "http://p/", "--backend", "b"};
    String[] off = {"--proxy", "http://p/", "--backend", "b", "--channel=false"};

    assertTrue(AgentOptions.parse(base, Map.of()).channel());
    assertFalse(AgentOptions.parse(off, Map.of()).channel());
  }

  @Test
  public void theBackendSelectorIsOnByDefaultAndBackendSelectorFalseTurnsItOffLeavingTheChannel()
      throws Flags.UsageException {
    String[] base = {"--proxy", "http://p/", "--backend", "b"};
    String[] off = {"--proxy", "http://p/", "--backend", "b", "--backend-selector=false"};

    assertTrue(AgentOptions.parse(base, Map.of()).backendSelector());
    assertFalse(AgentOptions.parse(off, Map.of()).backendSelector());
    assertTrue(AgentOptions.parse(off, Map.of()).channel());
  }

  @Test
  public void everyFlagOfTheOriginalAgentIsAccepted() throws Flags.UsageException {
    // agent.go's flags (of its several versions), each with a value of its type.
    String[] original = {"--proxy=http://p/", "--backend=b", "--proxy-timeout=30s", "--request-forwarding-timeout=1m",
        "--host=localhost:9000", "--force-http2", "--debug", "--disable-ssl-for-test", "--favicon-url=/f.png",
        "--forward-user-id", "--inject-banner=<b>hi</b>", "--banner-height=30px", "--shim-websockets",
        "--shim-path=ws-shim", "--health-check-path=/healthz", "--health-check-interval-seconds=5",
        "--health-check-unhealthy-threshold=3", "--disable-gce-vm-header", "--session-cookie-name=sid",
        "--session-cookie-timeout=1h", "--session-cookie-cache-limit=10", "--rewrite-websocket-host",
        "--strip-credentials", "--stats-addr=:8081", "--enable-websockets-injection", "--disable-aws-vm-header",
        "--monitoring-project-id=p", "--metric-domain=d",
        "--monitoring-endpoint=m:443", "--monitoring-resource-type=gce_instance",
        "--monitoring-resource-labels=a=b", "--graceful-shutdown-timeout=10s"};

    AgentOptions o = AgentOptions.parse(original, Map.of());

    assertEquals("localhost:9000", o.host());
    assertEquals(Duration.ofSeconds(10), o.gracefulShutdownTimeout());
    assertTrue(o.debug());
  }

  @Test
  public void theDockerImagesDebugVariableTurnsOnDebugLogging() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[0], Map.of("PROXY", "http://p/", "BACKEND", "b", "DEBUG", "true"));

    assertTrue(o.debug());
  }

  @Test
  public void idTokenCredentialsWithoutAnAudienceExitWith2() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--credentials", "id-token");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: --credentials id-token needs --audience: the audience the proxy's front"
        + " expects (for Identity-Aware Proxy, its OAuth client ID)" + System.lineSeparator(), errText());
  }

  @Test
  public void anAudienceWithoutIdTokenCredentialsExitsWith2() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--audience", "x");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: --audience is only used with --credentials id-token"
        + System.lineSeparator(), errText());
  }

  @Test
  public void aBannerHeightThatIsNotACssLengthExitsWith2() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--credentials", "none",
        "--inject-banner", "<b>x</b>", "--banner-height", "40px;color:red");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: invalid --banner-height: banner height \"40px;color:red\" is not a CSS"
        + " length such as 40px" + System.lineSeparator(), errText());
  }

  @Test
  public void anInvalidSessionCookieNameExitsWith2() {
    int status = run(Map.of(), "--proxy", "http://p/", "--backend", "b", "--session-cookie-name", "a;b");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: invalid --session-cookie-*: session cookie name \"a;b\" must be a token:"
        + " no spaces or separators" + System.lineSeparator(), errText());
  }

  @Test
  public void withoutAnyGoogleCredentialsTheDefaultExitsWith1AndOneLineSayingWhy() throws Exception {
    java.nio.file.Path empty = java.nio.file.Files.createTempDirectory("no-credentials");
    try {
      int status = run(Map.of("PROXY", "http://p/", "BACKEND", "b", "PATH", empty.toString(), "HOME", empty.toString(),
          "NO_GCE_CHECK", "true"));

      assertEquals(1, status);
      assertTrue(errText(), errText().startsWith("inverting-proxy-agent: --credentials google: no Google credentials"
          + " found: gcloud is not on the PATH; GOOGLE_APPLICATION_CREDENTIALS is not set; no "));
      assertEquals(errText(), 1, errText().lines().count());
    } finally {
      java.nio.file.Files.delete(empty);
    }
  }

  @Test
  public void theOriginalsMetricsFlagsAreAcceptedWithAWarningThatTheyAreIgnored() throws Flags.UsageException {
    AgentOptions o = AgentOptions.parse(new String[] {"--proxy=http://p/", "--backend=b", "--credentials=none",
        "--monitoring-project-id=my-project", "--stats-addr=:8081"}, Map.of());

    try (LogCapture log = LogCapture.start()) {
      o.toAgent();

      assertEquals(List.of("--monitoring-project-id is accepted for compatibility with the original agent and ignored",
          "--stats-addr is accepted for compatibility with the original agent and ignored"),
          log.messagesContaining("ignored"));
    }
  }

  @Test
  public void aMissingCaCertFileExitsWith2AndOneErrorLine() {
    int status = run(Map.of(), "--proxy", "https://p/", "--backend", "b", "--ca-cert", "/nonexistent/ca.pem");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: --ca-cert /nonexistent/ca.pem: no such file" + System.lineSeparator(), errText());
  }

  @Test
  public void aCaCertFileWithoutACertificateExitsWith2AndOneErrorLine() throws Exception {
    java.nio.file.Path garbage = java.nio.file.Files.createTempFile("ca", ".pem");
    try {
      java.nio.file.Files.writeString(garbage, "not a certificate\n");
      int status = run(Map.of("CA_CERT", garbage.toString()), "--proxy", "https://p/", "--backend", "b");

      assertEquals(2, status);
      assertTrue(errText(), errText().startsWith("inverting-proxy-agent: --ca-cert " + garbage + ": not a PEM certificate"));
      assertEquals(1, errText().lines().count());
    } finally {
      java.nio.file.Files.delete(garbage);
    }
  }

  @Test
  public void caCertAndDisabledChecksExcludeEachOther() {
    int status = run(Map.of(), "--proxy", "https://p/", "--backend", "b", "--ca-cert", "/x.pem", "--disable-ssl-for-test");

    assertEquals(2, status);
    assertEquals("inverting-proxy-agent: --ca-cert and --disable-ssl-for-test exclude each other" + System.lineSeparator(),
        errText());
  }
}
