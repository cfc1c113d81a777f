package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.server.tls.CertificateFiles;
import io.github.invertingproxy.server.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The {@code backends} command against a real server's admin API, with tokens. */
public class BackendsCommandTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private StandaloneServer server;
  private ByteArrayOutputStream out;
  private ByteArrayOutputStream err;
  private final Map<String, String> env = new HashMap<>();

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0).tokensFile(TestTokens.write(tmp.getRoot().toPath())).build().start();
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  /** Runs {@code backends ARGS --url ADMIN}; out and err hold what it printed. */
  private int backends(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--url");
    all.add(server.adminUrl());
    return backendsAsGiven(all.toArray(new String[0]));
  }

  private int backendsAsGiven(String... args) {
    out = new ByteArrayOutputStream();
    err = new ByteArrayOutputStream();
    return BackendsCommand.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private void add(String id, String... prefixes) {
    server.registry().add(BackendRecord.builder().id(id).endUser("alice@example.com").backendUser("agent@example.com")
        .pathPrefixes(prefixes).build());
  }

  @Test
  public void listPrintsATableOfTheRecords() {
    add("nb1", "/");
    add("notebook-two", "/a", "/b");

    assertEquals(0, backends("list", "--token", TestTokens.ADMIN));

    assertEquals(String.join("\n",
        "ID            END USER           BACKEND USER       PATH PREFIXES  LAST USED",
        "nb1           alice@example.com  agent@example.com  /              -",
        "notebook-two  alice@example.com  agent@example.com  /a,/b          -",
        ""), out());
    assertEquals("", err());
  }

  @Test
  public void listWithJsonPrintsTheApisJson() {
    add("nb1", "/");

    assertEquals(0, backends("list", "--json", "--token", TestTokens.ADMIN));

    assertEquals("[{\"id\":\"nb1\",\"endUser\":\"alice@example.com\",\"backendUser\":\"agent@example.com\","
        + "\"pathPrefixes\":[\"/\"],\"live\":false,\"agentsConnected\":0,\"requestsInFlight\":0}]\n", out());
  }

  @Test
  public void getPrintsTheRecord() {
    add("nb1", "/app");
    env.put("PROXY_API_TOKEN", TestTokens.ADMIN);

    assertEquals(0, backends("get", "nb1"));

    assertEquals("{\"id\":\"nb1\",\"endUser\":\"alice@example.com\",\"backendUser\":\"agent@example.com\","
        + "\"pathPrefixes\":[\"/app\"],\"live\":false,\"agentsConnected\":0,\"requestsInFlight\":0}\n", out());
  }

  @Test
  public void createAddsTheRecordAndAddIsTheSame() {
    assertEquals(0, backends("create", "--token", TestTokens.ADMIN, "--id", "nb1", "--end-user", "allUsers",
        "--backend-user", "agent@example.com", "--path-prefixes", "/a,/b"));
    assertEquals("created backend nb1\n", out());
    assertEquals(List.of("/a", "/b"), server.registry().get("nb1").orElseThrow().pathPrefixes());

    // The older name and flag, as scripts use them.
    assertEquals(0, backendsAsGiven("add", "--api", server.adminUrl(), "--token", TestTokens.ADMIN, "--id", "nb2",
        "--end-user", "allUsers", "--backend-user", "agent@example.com"));
    assertEquals(List.of("/"), server.registry().get("nb2").orElseThrow().pathPrefixes());
  }

  @Test
  public void updateChangesOnlyTheFieldsGiven() {
    add("nb1", "/");

    assertEquals(0, backends("update", "nb1", "--token", TestTokens.ADMIN, "--path-prefixes", "/x,/y"));

    assertEquals("updated backend nb1\n", out());
    BackendRecord now = server.registry().get("nb1").orElseThrow();
    assertEquals(List.of("/x", "/y"), now.pathPrefixes());
    assertEquals("alice@example.com", now.endUser());
    assertEquals("agent@example.com", now.backendUser());
  }

  @Test
  public void deleteRemovesTheRecord() {
    add("nb1", "/");

    assertEquals(0, backends("delete", "nb1", "--token", TestTokens.ADMIN));

    assertEquals("deleted backend nb1\n", out());
    assertTrue(server.registry().get("nb1").isEmpty());
  }

  @Test
  public void aMissingRecordIsOneLineAndExitOne() {
    assertEquals(1, backends("get", "nb1", "--token", TestTokens.ADMIN));
    assertEquals("backends get nb1: no such backend (404)\n", err());
    assertEquals(1, backends("delete", "nb1", "--token", TestTokens.ADMIN));
    assertEquals("backends delete nb1: no such backend (404)\n", err());
    assertEquals(1, backends("update", "nb1", "--token", TestTokens.ADMIN, "--end-user", "allUsers"));
    assertEquals("backends update nb1: no such backend (404)\n", err());
  }

  @Test
  public void anExistingIdIsAConflict() {
    add("nb1", "/");

    assertEquals(1, backends("create", "--token", TestTokens.ADMIN, "--id", "nb1", "--end-user", "allUsers",
        "--backend-user", "agent@example.com"));

    assertEquals("backends create nb1: a backend with this id already exists (409)\n", err());
  }

  @Test
  public void noTokenIsUnauthenticated() {
    assertEquals(1, backends("list"));
    assertEquals("backends list: not authenticated (401): give an administrator's token with --token, --token-file"
        + " or --gcloud-token\n", err());
  }

  @Test
  public void aTokenWithoutTheAdminRoleIsForbidden() {
    assertEquals(1, backends("list", "--token", TestTokens.ALICE));
    assertEquals("backends list: forbidden (403): the token is not an administrator's\n", err());
  }

  @Test
  public void anInvalidRecordIsRefusedBeforeItIsSent() {
    assertEquals(2, backends("create", "--token", TestTokens.ADMIN, "--id", "nb1", "--end-user", "allUsers",
        "--backend-user", "agent@example.com", "--path-prefixes", "app"));
    assertTrue(err(), err().startsWith("backends create: ") && err().contains("app"));
    assertTrue(server.registry().get("nb1").isEmpty());
  }

  @Test
  public void theTokenMayComeFromAFile() throws Exception {
    Path file = Files.writeString(tmp.getRoot().toPath().resolve("admin.token"), TestTokens.ADMIN + "\n");

    assertEquals(0, backends("list", "--token-file", file.toString()));
    assertEquals(2, backends("list", "--token-file", "/nonexistent/token"));
    assertEquals("backends list: --token-file /nonexistent/token: no such file\n", err());
  }

  @Test
  public void theTokenMayComeFromGcloud() throws Exception {
    Path gcloud = tmp.getRoot().toPath().resolve("gcloud");
    Files.writeString(gcloud, "#!/bin/sh\n[ \"$1 $2\" = \"auth print-access-token\" ] && echo " + TestTokens.ADMIN + "\n");
    Files.setPosixFilePermissions(gcloud, PosixFilePermissions.fromString("rwx------"));
    env.put("GCLOUD", gcloud.toString());

    assertEquals(0, backends("list", "--gcloud-token"));
  }

  @Test
  public void aMissingGcloudIsOneClearLine() {
    env.put("GCLOUD", "/nonexistent/gcloud");

    assertEquals(2, backends("list", "--gcloud-token"));

    assertEquals("backends list: --gcloud-token: cannot run /nonexistent/gcloud (install the Google Cloud SDK and put"
        + " gcloud on the PATH, or give --token-file)\n", err());
  }

  @Test
  public void badCommandLinesExitTwo() {
    assertEquals(2, backends("get", "--token", TestTokens.ADMIN));
    assertEquals("backends get: give exactly one backend id, as in: backends get ID\n", err());
    assertEquals(2, backends("create", "--id", "nb1", "--end-user", "allUsers"));
    assertEquals("backends create: missing --backend-user: the agent's account email\n", err());
    assertEquals(2, backends("update", "nb1"));
    assertEquals("backends update: nothing to change: give --end-user, --backend-user or --path-prefixes\n", err());
    assertEquals(2, backends("frobnicate"));
    assertEquals("backends frobnicate: unknown command \"frobnicate\" (list, get, create, update, delete)\n", err());
    assertEquals(2, backendsAsGiven());
    assertTrue(err(), err().startsWith("usage: inverting-proxy-server backends COMMAND"));
  }

  @Test
  public void anUnreachableApiIsOneLineAndExitOne() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    assertEquals(1, backendsAsGiven("list", "--url", "http://127.0.0.1:" + closedPort + "/"));
    assertEquals("backends list: cannot connect to http://127.0.0.1:" + closedPort + "/ (is the admin API there?"
        + " the stand-alone server's is its --admin-port)\n", err());
  }

  @Test
  public void theProxyPortInPlaceOfTheAdminPortIsNamed() {
    assertEquals(1, backendsAsGiven("list", "--url", server.url(), "--token", TestTokens.ADMIN));
    assertTrue(err(), err().startsWith("backends list: "));
  }

  @Test
  public void anHttpsAdminApiOfAPrivateAuthorityIsReachedWithCaCert() throws Exception {
    TestCertificates ca = TestCertificates.authority("Admin CA");
    TestCertificates.Issued issued = ca.issue("EC");
    Path dir = tmp.getRoot().toPath();
    try (StandaloneServer https = StandaloneServer.builder().port(0).tokensFile(TestTokens.write(dir))
        .tls(new CertificateFiles(issued.writeChain(dir.resolve("cert.pem")), issued.writePkcs8Key(dir.resolve("key.pem"))))
        .build().start()) {
      String caPem = ca.writeCertificate(dir.resolve("ca.pem")).toString();

      assertEquals(0, backendsAsGiven("create", "--url", https.adminUrl(), "--ca-cert", caPem, "--token", TestTokens.ADMIN,
          "--id", "nb1", "--end-user", "allUsers", "--backend-user", "agent@example.com"));
      assertTrue(https.registry().get("nb1").isPresent());

      assertEquals(1, backendsAsGiven("list", "--url", https.adminUrl(), "--token", TestTokens.ADMIN));
      assertTrue(err(), err().startsWith("backends list: TLS handshake with " + https.adminUrl()
          + " failed (for a private authority, give its certificate with --ca-cert): "));
    }
  }
}
