package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.github.invertingproxy.agent.credentials.GoogleProxyCredentials;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.invertingproxy.agent.ForwardingAgent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * --credentials google and id-token against a fake Google (token endpoint and metadata server on
 * loopback) and a scripted proxy that records the headers of every agent call. The environment is the
 * test's own map, so nothing here reaches a real gcloud or metadata server.
 */
public class GoogleCredentialsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private FakeGoogle google;
  private ScriptedProxy proxy;
  private ForwardingAgent agent;
  private GoogleProxyCredentials credentials;
  private Path emptyDir;

  @Before
  public void startPeers() throws Exception {
    google = new FakeGoogle();
    proxy = ScriptedProxy.start();
    emptyDir = temp.newFolder("empty").toPath();
  }

  @After
  public void stopAll() {
    if (agent != null) {
      agent.close();
    }
    if (credentials != null) {
      credentials.close();
    }
    proxy.close();
    google.close();
  }

  /** No gcloud, no files, no metadata server: what a test adds is all there is. */
  private Map<String, String> bareEnvironment() {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", emptyDir.toString());
    env.put("HOME", emptyDir.toString());
    env.put("NO_GCE_CHECK", "true");
    return env;
  }

  private Map<String, String> withServiceAccountKey() throws IOException {
    Map<String, String> env = bareEnvironment();
    env.put("GOOGLE_APPLICATION_CREDENTIALS", google.writeServiceAccountKey(temp.newFolder().toPath()).toString());
    return env;
  }

  private void startAgent(GoogleProxyCredentials c) {
    credentials = c;
    agent = ForwardingAgent.builder()
        .proxyUrl(proxy.url())
        .backendId("backend-1")
        .credentials(c)
        .shutdownGracePeriod(Duration.ofMillis(200))
        .build();
    agent.start();
  }

  private ScriptedProxy.Call awaitCall(Predicate<ScriptedProxy.Call> matching) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (ScriptedProxy.Call c : proxy.calls()) {
        if (matching.test(c)) {
          return c;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no such call among " + proxy.calls());
  }

  private Path fakeGcloud(String script) throws IOException {
    Path dir = temp.newFolder("gcloud-bin").toPath();
    Path gcloud = dir.resolve("gcloud");
    Files.writeString(gcloud, "#!/bin/sh\n" + script, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(gcloud, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  private static JsonNode claimsOf(String bearer) throws IOException {
    String jwt = bearer.substring("Bearer ".length());
    return new ObjectMapper().readTree(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
  }

  @Test
  public void aServiceAccountKeyNamedByGoogleApplicationCredentialsGivesTheProxyItsAccessToken() throws Exception {
    startAgent(new GoogleProxyCredentials(null, withServiceAccountKey(), null));

    proxy.awaitPolls(1, WAIT);

    assertEquals("Bearer ya29.fake-1", proxy.calls().get(0).authorization());
  }

  @Test
  public void theWellKnownFileUnderHomeIsUsedWhenTheVariableIsUnset() throws Exception {
    Map<String, String> env = bareEnvironment();
    Path home = temp.newFolder("home").toPath();
    Path gcloudConfig = Files.createDirectories(home.resolve(".config/gcloud"));
    Files.move(google.writeServiceAccountKey(temp.newFolder().toPath()),
        gcloudConfig.resolve("application_default_credentials.json"));
    env.put("HOME", home.toString());
    GoogleProxyCredentials c = new GoogleProxyCredentials(null, env, null);

    assertEquals("Bearer ya29.fake-1", c.authorizationHeader().orElseThrow());
    assertTrue(c.toString(), c.toString().startsWith("google from gcloud's application default credentials ("
        + gcloudConfig.resolve("application_default_credentials.json") + "), service account " + FakeGoogle.SERVICE_ACCOUNT));
  }

  @Test
  public void gcloudOnThePathComesFirstAndNamesItsAccount() throws Exception {
    Map<String, String> env = withServiceAccountKey();
    env.put("PATH", fakeGcloud("case \"$1 $2\" in\n"
        + "  'auth print-access-token') echo gcloud-token-1 ;;\n"
        + "  'config get-value') echo alice@example.com ;;\n"
        + "  *) exit 2 ;;\nesac\n") + ":" + emptyDir);
    GoogleProxyCredentials c = new GoogleProxyCredentials(null, env, null);

    assertEquals("Bearer gcloud-token-1", c.authorizationHeader().orElseThrow());
    assertTrue(c.toString(), c.toString().endsWith("), account alice@example.com"));
    assertEquals(0, google.accessTokensIssued());
  }

  @Test
  public void aGcloudWithoutALoggedInAccountIsPassedOver() throws Exception {
    Map<String, String> env = withServiceAccountKey();
    env.put("PATH", fakeGcloud("echo 'ERROR: (gcloud.auth.print-access-token) You do not currently have an active"
        + " account selected.' >&2\nexit 1\n").toString());
    GoogleProxyCredentials c = new GoogleProxyCredentials(null, env, null);

    assertEquals("Bearer ya29.fake-1", c.authorizationHeader().orElseThrow());
  }

  @Test
  public void anAccessTokenIsFetchedAgainInTheBackgroundBeforeItExpires() throws Exception {
    google.expireTokensIn(240); // inside the 5 minutes ahead of expiry that start a refresh
    startAgent(new GoogleProxyCredentials(null, withServiceAccountKey(), null));

    ScriptedProxy.Call refreshed = awaitCall(c -> "Bearer ya29.fake-2".equals(c.authorization()));

    assertEquals("GET", refreshed.method());
    assertEquals("Bearer ya29.fake-1", proxy.calls().get(0).authorization());
  }

  @Test
  public void aTokenTooCloseToItsExpiryIsReplacedBeforeTheCall() throws Exception {
    google.expireTokensIn(10); // less than the 30 s a token must have left to be used
    GoogleProxyCredentials c = new GoogleProxyCredentials(null, withServiceAccountKey(), null);
    credentials = c;

    assertEquals("Bearer ya29.fake-1", c.authorizationHeader().orElseThrow());
    assertEquals("Bearer ya29.fake-2", c.authorizationHeader().orElseThrow());
  }

  @Test
  public void anIdTokenIsSignedForTheAudience() throws Exception {
    GoogleProxyCredentials c = new GoogleProxyCredentials("https://proxy.example.com", withServiceAccountKey(), null);
    startAgent(c);

    proxy.awaitPolls(1, WAIT);

    JsonNode claims = claimsOf(proxy.calls().get(0).authorization());
    assertEquals("https://proxy.example.com", claims.get("aud").asText());
    assertEquals(FakeGoogle.SERVICE_ACCOUNT, claims.get("email").asText());
    assertEquals(0, google.accessTokensIssued());
  }

  @Test
  public void withoutAnySourceTheErrorSaysWhatWasTried() throws Exception {
    GoogleProxyCredentials c = new GoogleProxyCredentials(null, bareEnvironment(), null);

    try {
      c.authorizationHeader();
      fail("found credentials in an empty environment");
    } catch (IOException e) {
      assertEquals("no Google credentials found: gcloud is not on the PATH; GOOGLE_APPLICATION_CREDENTIALS is not set;"
          + " no " + emptyDir.resolve(".config/gcloud/application_default_credentials.json")
          + "; no GCE metadata server answered at http://169.254.169.254"
          + " (run gcloud auth login, set GOOGLE_APPLICATION_CREDENTIALS, or use --credentials none)", e.getMessage());
    }
  }

  @Test
  public void aBrokenKeyFileNamedByTheVariableIsAnErrorThatNamesIt() throws Exception {
    Map<String, String> env = bareEnvironment();
    Path broken = temp.newFile("broken.json").toPath();
    Files.writeString(broken, "{\"type\": \"service_account\"}");
    env.put("GOOGLE_APPLICATION_CREDENTIALS", broken.toString());

    try {
      new GoogleProxyCredentials(null, env, null).authorizationHeader();
      fail("a broken key file was accepted");
    } catch (IOException e) {
      assertTrue(e.getMessage(), e.getMessage().startsWith("GOOGLE_APPLICATION_CREDENTIALS " + broken + " is not usable: "));
    }
  }

  @Test
  public void onAGceVmEveryCallCarriesTheInstanceIdentityForTheProxyUrl() throws Exception {
    Map<String, String> env = withServiceAccountKey();
    env.remove("NO_GCE_CHECK");
    env.put("GCE_METADATA_HOST", google.host());
    String audience = proxy.url() + "/";
    startAgent(new GoogleProxyCredentials(null, env, audience));

    proxy.awaitPolls(1, WAIT);

    assertEquals("vm-identity-1-for-" + audience, proxy.calls().get(0).vmId());
    assertEquals("Bearer ya29.fake-1", proxy.calls().get(0).authorization());
  }

  @Test
  public void theInstanceIdentityIsRefreshedInTheBackground() throws Exception {
    Map<String, String> env = withServiceAccountKey();
    env.remove("NO_GCE_CHECK");
    env.put("GCE_METADATA_HOST", google.host());
    startAgent(new GoogleProxyCredentials(null, env, "https://proxy.example.com/", Duration.ofMinutes(5),
        Duration.ofMillis(200)));

    awaitCall(c -> "vm-identity-3-for-https://proxy.example.com/".equals(c.vmId()));

    assertTrue(google.vmIdentitiesIssued() >= 3);
  }

  @Test
  public void offGceNoVmHeaderIsSentAndNoIdentityAsked() throws Exception {
    startAgent(new GoogleProxyCredentials(null, withServiceAccountKey(), "https://proxy.example.com/"));

    proxy.awaitPolls(2, WAIT);

    assertNull(proxy.calls().get(1).vmId());
    assertEquals(0, google.vmIdentitiesIssued());
  }

  @Test
  public void tokensNeverReachTheLog() throws Exception {
    google.expireTokensIn(240);
    try (LogCapture log = LogCapture.start()) {
      Map<String, String> env = withServiceAccountKey();
      env.remove("NO_GCE_CHECK");
      env.put("GCE_METADATA_HOST", google.host());
      startAgent(new GoogleProxyCredentials(null, env, "https://proxy.example.com/"));
      awaitCall(c -> "Bearer ya29.fake-2".equals(c.authorization()));
      agent.close();

      List<String> all = log.allMessages();
      assertTrue(all.toString(), all.stream().anyMatch(m -> m.contains("service account " + FakeGoogle.SERVICE_ACCOUNT)));
      for (String message : all) {
        assertFalse(message, message.contains("ya29.") || message.contains("vm-identity-"));
      }
    }
  }
}
