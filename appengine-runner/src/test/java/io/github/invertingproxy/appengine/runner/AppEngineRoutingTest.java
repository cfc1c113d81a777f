package io.github.invertingproxy.appengine.runner;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.appengine.AppEngineConfig;
import io.github.invertingproxy.protocol.BackendRecord;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Which backend a request reaches, on the App Engine flavour: the three services on the local
 * runner, our real agent, real backends, real sockets. Records are stored in Datastore directly.
 * Each test uses its own users and prefixes, so that the shared runner's records do not interfere.
 */
public class AppEngineRoutingTest {
  private static AppEngineRunner runner;
  private static HttpClient http;
  private static final List<AutoCloseable> running = Collections.synchronizedList(new ArrayList<>());

  @BeforeClass
  public static void startRunner() throws Exception {
    runner = AppEngineRunner.builder().port(0)
        .parameter(AppEngineConfig.RESPONSE_TIMEOUT, "5s")
        .parameter(AppEngineConfig.PENDING_TIMEOUT, "5s")
        .build().start();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterClass
  public static void stopAll() throws Exception {
    for (AutoCloseable c : running) {
      c.close();
    }
    if (runner != null) {
      runner.close();
    }
  }

  private static void register(String id, String endUser, String prefix) {
    assertTrue(runner.addBackendIfAbsent(BackendRecord.builder().id(id).endUser(endUser)
        .backendUser(id + "-agent@example.com").pathPrefixes(prefix).build()));
  }

  /** A backend with our agent in front of it, polling for record {@code id}. */
  private static TestBackend served(String id) throws Exception {
    TestBackend backend = new TestBackend(id);
    running.add(backend);
    String token = id + "-agent-token";
    runner.oauthToken(token, id + "-agent@example.com", false);
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(runner.serviceUri("agent").toString()).backendId(id)
        .target(backend.target()).credentials(() -> Optional.of("Bearer " + token)).build();
    agent.start();
    running.add(agent);
    return backend;
  }

  private static HttpResponse<String> get(String user, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(runner.uri().resolve(path.substring(1)))
        .header("Cookie", "dev_appserver_login=" + user + ":false:1").GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until the agent serving {@code path} for {@code user} has polled: the answer is no longer 503. */
  private static void awaitLive(String user, String path) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (get(user, path).statusCode() == 503) {
      assertTrue("the agent never polled", System.nanoTime() < deadline);
      Thread.sleep(50);
    }
  }

  /** Sends {@code target} byte for byte, signed in as {@code user}; returns the whole answer. */
  private static String raw(String user, String target) throws Exception {
    try (Socket socket = new Socket(runner.uri().getHost(), runner.uri().getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nCookie: dev_appserver_login=" + user
          + ":false:1\r\nConnection: close\r\n\r\n").getBytes(ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), ISO_8859_1);
    }
  }

  private static int status(String answer) {
    return Integer.parseInt(answer.substring(9, 12));
  }

  private static String body(String answer) {
    return answer.substring(answer.indexOf("\r\n\r\n") + 4);
  }

  // --- the backend a request is for, or 503 for it -------------------------------------------

  @Test
  public void theUsersDeadLongerPrefixIs503NamingItWhileAShorterOneIsLive() throws Exception {
    register("nora-nb1", "nora@example.com", "/nb1/");
    register("nora-root", "nora@example.com", "/");
    TestBackend root = served("nora-root");
    awaitLive("nora@example.com", "/");
    HttpResponse<String> r = get("nora@example.com", "/nb1/tree");
    assertEquals(503, r.statusCode());
    assertEquals("Service unavailable: the agent of backend \"nora-nb1\" is not connected\n", r.body());
    assertEquals("backend nora-root got GET /other\n", get("nora@example.com", "/other").body());
    assertFalse(root.received.toString(), root.received.stream().anyMatch(s -> s.contains("/nb1/")));
  }

  @Test
  public void theUsersDeadRecordIs503WhileAnAllUsersRecordForThePathIsLive() throws Exception {
    register("oscar-nb1", "oscar@example.com", "/oscar/nb1/");
    register("oscar-shared", BackendRecord.ALL_USERS, "/oscar/");
    TestBackend shared = served("oscar-shared");
    awaitLive("peggy@example.com", "/oscar/");
    HttpResponse<String> r = get("oscar@example.com", "/oscar/nb1/tree");
    assertEquals(503, r.statusCode());
    assertTrue(r.body(), r.body().contains("backend \"oscar-nb1\" is not connected"));
    assertFalse(shared.received.toString(), shared.received.stream().anyMatch(s -> s.contains("/nb1/")));
  }

  @Test
  public void anAllUsersRecordServesAPathNoneOfTheUsersOwnRecordsMatches() throws Exception {
    register("rita-nb1", "rita@example.com", "/rita/nb1/");
    register("rita-shared", BackendRecord.ALL_USERS, "/rita/");
    served("rita-nb1");
    served("rita-shared");
    awaitLive("rita@example.com", "/rita/nb1/");
    awaitLive("rita@example.com", "/rita/");
    assertEquals("backend rita-shared got GET /rita/elsewhere\n", get("rita@example.com", "/rita/elsewhere").body());
    assertEquals("backend rita-nb1 got GET /rita/nb1/tree\n", get("rita@example.com", "/rita/nb1/tree").body());
  }

  // --- dot segments never take a request past its record's prefix ----------------------------

  @Test
  public void dotSegmentsAreRoutedByTheNormalisedPathAndTheBackendReceivesIt() throws Exception {
    register("sam-files", BackendRecord.ALL_USERS, "/sam-public/");
    register("sam-site", "sam@example.com", "/sam-site/");
    TestBackend files = served("sam-files");
    TestBackend site = served("sam-site");
    awaitLive("sam@example.com", "/sam-public/");
    awaitLive("sam@example.com", "/sam-site/");

    for (String target : List.of("/sam-public/../secret.txt", "/sam-public/%2e%2e/secret.txt",
        "/sam-public/.%2e/secret.txt", "/sam-public/%2E./secret.txt")) {
      String r = raw("sam@example.com", target);
      assertEquals(target + ": " + r, 404, status(r));
      assertEquals(target, "Not found: no backend is registered for /secret.txt for sam@example.com\n", body(r));
    }
    String routed = raw("sam@example.com", "/sam-public/../sam-site/secret.txt?q=/../x");
    assertEquals(routed, "backend sam-site got GET /sam-site/secret.txt\n", body(routed));
    assertTrue(site.received.toString(), site.received.contains("GET /sam-site/secret.txt?q=/../x"));

    String normalised = raw("sam@example.com", "/sam-public/./a/../%7Euser/b.txt");
    assertEquals(normalised, "backend sam-files got GET /sam-public/~user/b.txt\n", body(normalised));
    assertEquals(List.of("GET /sam-public/~user/b.txt"), files.received.stream()
        .filter(s -> !s.equals("GET /sam-public/")).toList());
  }

  @Test
  public void pathsWhoseMeaningDependsOnDecodingAre400WithTheReason() throws Exception {
    register("tom-files", BackendRecord.ALL_USERS, "/tom-public/");
    TestBackend files = served("tom-files");
    awaitLive("tom@example.com", "/tom-public/");
    int before = files.received.size();
    String[][] cases = {
        {"/tom-public/..%2fsecret.txt", "the path has an encoded slash (%2f): backends disagree on what it means"},
        {"/tom-public/%2e%2e%2fsecret.txt", "the path has an encoded slash (%2f): backends disagree on what it means"},
        {"/tom-public/..%5Csecret.txt", "the path has a backslash (%5C): some backends read it as a slash"},
        {"/tom-public/..\\secret.txt", "the path has a backslash: some backends read it as a slash"},
        {"/tom-public/..;/secret.txt", "the path has a dot segment with parameters (..;): backends disagree on what it means"},
        {"/tom-public/a%0d%0aX-Injected:%201", "the path has a control character (%0d)"},
    };
    for (String[] c : cases) {
      String r = raw("tom@example.com", c[0]);
      assertEquals(c[0] + ": " + r, 400, status(r));
      assertEquals(c[0], "Bad request: " + c[1] + "\n", body(r));
    }
    // Jetty's request-line parser refuses these itself, before any service, with a page of its own.
    for (String target : List.of("/../secret.txt", "/tom-public/../../secret.txt", "/tom-public/a%00.txt")) {
      String r = raw("tom@example.com", target);
      assertEquals(target + ": " + r, 400, status(r));
    }
    assertEquals(files.received.toString(), before, files.received.size());
  }
}
