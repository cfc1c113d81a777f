package io.github.invertingproxy.appengine.runner;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.appengine.AppEngineConfig;
import io.github.invertingproxy.appengine.DatastoreExchangeStore;
import io.github.invertingproxy.appengine.ExchangeSettings;
import io.github.invertingproxy.core.spi.ExchangeRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The App Engine flavour end to end: the three services on the local runner, our real agent, real
 * backends, real sockets. Each test uses its own users and backends, so that the shared runner's
 * records do not interfere.
 */
public class AppEngineFlavourTest {
  private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(5);
  private static final String ADMIN_TOKEN = "admin-token";

  private static AppEngineRunner runner;
  private static HttpClient http;
  private static final List<AutoCloseable> running = Collections.synchronizedList(new ArrayList<>());

  @BeforeClass
  public static void startRunner() throws Exception {
    runner = AppEngineRunner.builder().port(0)
        .oauthToken(ADMIN_TOKEN, "admin@example.com", true)
        .parameter(AppEngineConfig.RESPONSE_TIMEOUT, "5s")
        .parameter(AppEngineConfig.PENDING_TIMEOUT, "5s")
        .parameter(AppEngineConfig.EXCHANGE_MAX_AGE, "6s")
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

  // --- helpers -------------------------------------------------------------------------------

  private static TestBackend backend(String name) throws Exception {
    TestBackend b = new TestBackend(name);
    running.add(b);
    return b;
  }

  /** Registers a record through the admin API, as an administrator with a bearer token. */
  private static void register(String id, String endUser, String agentAccount, String... prefixes) throws Exception {
    String json = "{\"id\":\"" + id + "\",\"endUser\":\"" + endUser + "\",\"backendUser\":\"" + agentAccount
        + "\",\"pathPrefixes\":[\"" + String.join("\",\"", prefixes) + "\"]}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(r.body(), 200, r.statusCode());
  }

  /** Starts our agent for {@code backendId}, authenticated by a bearer token that stands for {@code account}. */
  private static ForwardingAgent agent(String backendId, String account, TestBackend backend) {
    String token = account + "-token";
    runner.oauthToken(token, account, false);
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(runner.serviceUri("agent").toString()).backendId(backendId)
        .target(backend.target()).credentials(() -> Optional.of("Bearer " + token)).build();
    agent.start();
    running.add(agent);
    return agent;
  }

  /** A user request through the proxy, signed in with the dev server's cookie. */
  private static HttpRequest.Builder as(String user, String path) {
    return HttpRequest.newBuilder(runner.uri().resolve(path.substring(1)))
        .header("Cookie", "dev_appserver_login=" + user + ":false:1");
  }

  private static HttpResponse<String> get(String user, String path) throws Exception {
    return http.send(as(user, path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until the backend's agent has polled, i.e. the user's request no longer gets 503. */
  private static void awaitLive(String user, String path) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (get(user, path).statusCode() == 503) {
      assertTrue("the agent never polled", System.nanoTime() < deadline);
      Thread.sleep(50);
    }
  }

  private static HttpResponse<String> agentCall(String token, String backendId) throws Exception {
    return http.send(HttpRequest.newBuilder(runner.serviceUri("agent").resolve("agent/pending"))
        .header("Authorization", "Bearer " + token).header("X-Inverting-Proxy-Backend-ID", backendId)
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> api(HttpRequest.Builder request) throws Exception {
    return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  // --- the user-facing side ------------------------------------------------------------------

  @Test
  public void aSignedInUsersRequestReachesTheirOwnBackend() throws Exception {
    TestBackend alices = backend("alice-app");
    TestBackend bobs = backend("bob-app");
    register("alice-app", "alice@example.com", "alice-agent@example.com", "/");
    register("bob-app", "bob@example.com", "bob-agent@example.com", "/");
    agent("alice-app", "alice-agent@example.com", alices);
    agent("bob-app", "bob-agent@example.com", bobs);
    awaitLive("alice@example.com", "/");
    awaitLive("bob@example.com", "/");

    HttpResponse<String> alice = get("alice@example.com", "/hello?x=1");
    assertEquals(200, alice.statusCode());
    assertEquals("backend alice-app got GET /hello\n", alice.body());
    assertEquals(List.of("a=1", "b=2"), alice.headers().allValues("Set-Cookie"));
    assertTrue(alices.received.contains("GET /hello?x=1"));
    assertEquals("backend bob-app got GET /hello\n", get("bob@example.com", "/hello").body());
  }

  @Test
  public void aUserWithoutAMatchingRecordGets404() throws Exception {
    register("grace-app", "grace@example.com", "grace-agent@example.com", "/grace/");
    HttpResponse<String> r = get("mallory@example.com", "/grace/secret");
    assertEquals(404, r.statusCode());
  }

  @Test
  public void anAllUsersRecordServesEverySignedInUser() throws Exception {
    TestBackend shared = backend("shared-app");
    register("shared-app", "allUsers", "shared-agent@example.com", "/shared/");
    agent("shared-app", "shared-agent@example.com", shared);
    awaitLive("carol@example.com", "/shared/");
    assertEquals("backend shared-app got GET /shared/a\n", get("carol@example.com", "/shared/a").body());
    assertEquals("backend shared-app got GET /shared/b\n", get("dave@example.com", "/shared/b").body());
  }

  @Test
  public void aBrowserThatIsNotSignedInIsSentToTheLoginPageAndCanSignInThere() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(runner.uri().resolve("some/page?q=1"))
        .header("Accept", "text/html,application/xhtml+xml").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(302, r.statusCode());
    String location = r.headers().firstValue("Location").orElseThrow();
    assertEquals("/_ah/login?continue=" + URLEncoder.encode("/some/page?q=1", UTF_8), location);

    HttpResponse<String> page = http.send(HttpRequest.newBuilder(runner.uri().resolve(location.substring(1)))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("<form"));
    HttpResponse<String> signIn = http.send(HttpRequest.newBuilder(runner.uri().resolve("_ah/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("email=heidi%40example.com&action=Log+In&continue=%2Fsome%2Fpage"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(302, signIn.statusCode());
    String cookie = signIn.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie, cookie.startsWith("dev_appserver_login=heidi@example.com:false:"));
    HttpResponse<String> signedIn = http.send(HttpRequest.newBuilder(runner.uri().resolve("some/page"))
        .header("Cookie", cookie.substring(0, cookie.indexOf(';'))).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(404, signedIn.statusCode()); // signed in now; heidi just has no backend
  }

  @Test
  public void anApiClientThatIsNotSignedInGets401() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(runner.uri().resolve("some/page"))
        .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, r.statusCode());
  }

  @Test
  public void aRecordWithoutALiveAgentGives503() throws Exception {
    register("idle-app", "erin@example.com", "idle-agent@example.com", "/");
    assertEquals(503, get("erin@example.com", "/x").statusCode());
  }

  @Test
  public void aDeadAgentGives504AfterTheConfiguredWait() throws Exception {
    TestBackend b = backend("dead-app");
    register("dead-app", "frank@example.com", "dead-agent@example.com", "/");
    ForwardingAgent agent = agent("dead-app", "dead-agent@example.com", b);
    awaitLive("frank@example.com", "/");
    agent.close(); // it polled a moment ago, so the proxy still counts it as live
    long start = System.nanoTime();
    HttpResponse<String> r = get("frank@example.com", "/too-late");
    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(r.body(), 504, r.statusCode());
    assertTrue("answered after " + waited + " ms", waited >= RESPONSE_TIMEOUT.toMillis() - 50);
    assertTrue("answered after " + waited + " ms", waited < RESPONSE_TIMEOUT.toMillis() + 3000);
  }

  // --- routing by host and by port, as App Engine routes -------------------------------------------

  @Test
  public void theBackendsOwnApiAgentAndCronPathsOnTheProxysHostReachTheBackend() throws Exception {
    TestBackend b = backend("jupyter-app");
    register("jupyter-app", "nina@example.com", "jupyter-agent@example.com", "/");
    agent("jupyter-app", "jupyter-agent@example.com", b);
    awaitLive("nina@example.com", "/");
    assertEquals("backend jupyter-app got GET /api/contents\n", get("nina@example.com", "/api/contents").body());
    HttpResponse<String> kernels = http.send(as("nina@example.com", "/api/kernels").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"python3\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, kernels.statusCode());
    assertEquals("backend jupyter-app got POST /api/kernels\n", kernels.body());
    assertEquals("backend jupyter-app got GET /api/backends\n", get("nina@example.com", "/api/backends").body());
    assertEquals("backend jupyter-app got GET /agent/x\n", get("nina@example.com", "/agent/x").body());
    assertEquals("backend jupyter-app got GET /agent/pending\n", get("nina@example.com", "/agent/pending").body());
    assertEquals("backend jupyter-app got GET /cron/x\n", get("nina@example.com", "/cron/x").body());
    assertEquals("backend jupyter-app got GET /cron/delete\n", get("nina@example.com", "/cron/delete").body());
  }

  /** A GET on the main port with {@code host} as the Host header (the JDK's client will not set it). */
  private static String onMainPortAs(String host, String path, String header) throws IOException {
    try (Socket socket = new Socket(runner.uri().getHost(), runner.uri().getPort())) {
      socket.setSoTimeout(20_000);
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + runner.uri().getPort()
          + "\r\n" + header + "\r\nConnection: close\r\n\r\n").getBytes(ISO_8859_1));
      return new String(socket.getInputStream().readAllBytes(), ISO_8859_1);
    }
  }

  @Test
  public void theAgentDotHostOnTheMainPortReachesTheAgentService() throws Exception {
    register("omar-app", "omar@example.com", "omar-agent@example.com", "/");
    runner.oauthToken("omar-agent-token", "omar-agent@example.com", false);
    String answer = onMainPortAs("agent-dot-localhost", "/agent/pending",
        "Authorization: Bearer omar-agent-token\r\nX-Inverting-Proxy-Backend-ID: omar-app");
    assertTrue(answer, answer.startsWith("HTTP/1.1 200 "));
    assertTrue(answer, answer.endsWith("\r\n\r\n[]"));
  }

  @Test
  public void theApiDotHostOnTheMainPortReachesTheAdminApi() throws Exception {
    String answer = onMainPortAs("api-dot-localhost", "/api/backends", "Authorization: Bearer " + ADMIN_TOKEN);
    assertTrue(answer, answer.startsWith("HTTP/1.1 200 "));
    assertTrue(answer, answer.contains("application/json"));
  }

  @Test
  public void eachServiceAnswersOnItsOwnPortAlone() throws Exception {
    assertEquals(200, api(HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN)).statusCode());
    // The agent service's port has no proxy behind it: a user's path is unknown there.
    assertEquals(404, api(HttpRequest.newBuilder(runner.serviceUri("agent").resolve("hello"))
        .header("Cookie", "dev_appserver_login=paul@example.com:false:1")).statusCode());
    // The default service's own port is the proxy: no backend for paul, whatever the path.
    for (String path : List.of("hello", "api/backends", "agent/pending")) {
      assertEquals(path, 404, api(HttpRequest.newBuilder(runner.serviceUri("default").resolve(path))
          .header("Cookie", "dev_appserver_login=paul@example.com:false:1")).statusCode());
    }
  }

  // --- large bodies ----------------------------------------------------------------------------

  @Test
  public void aTwentyMegabyteBodyGoesBothWaysIntact() throws Exception {
    TestBackend b = backend("big-app");
    register("big-app", "ivan@example.com", "big-agent@example.com", "/");
    agent("big-app", "big-agent@example.com", b);
    awaitLive("ivan@example.com", "/");
    byte[] body = new byte[20 * 1024 * 1024];
    new Random(20).nextBytes(body);
    HttpResponse<byte[]> r = http.send(as("ivan@example.com", "/echo")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    assertEquals(body.length, r.body().length);
    assertArrayEquals(sha256(body), sha256(r.body()));
  }

  @Test
  public void aThirtyThreeMegabyteRequestGets413AndNeverReachesTheBackend() throws Exception {
    TestBackend b = backend("huge-app");
    register("huge-app", "judy@example.com", "huge-agent@example.com", "/");
    agent("huge-app", "huge-agent@example.com", b);
    awaitLive("judy@example.com", "/");
    int before = b.received.size();
    long length = 33L * 1024 * 1024;
    try (Socket socket = new Socket(runner.uri().getHost(), runner.uri().getPort())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /echo HTTP/1.1\r\nHost: localhost\r\nCookie: dev_appserver_login=judy@example.com:false:1\r\n"
          + "Content-Length: " + length + "\r\n\r\n").getBytes(ISO_8859_1));
      // Upload on another thread: the proxy may answer before it has read everything.
      CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
        byte[] chunk = new byte[64 * 1024];
        try {
          for (long sent = 0; sent < length; sent += chunk.length) {
            out.write(chunk);
          }
          out.flush();
        } catch (IOException e) {
          // the proxy closed the connection after answering; expected
        }
      });
      String status = new BufferedReader(new InputStreamReader(socket.getInputStream(), ISO_8859_1)).readLine();
      assertEquals("HTTP/1.1 413 Payload Too Large", status);
      upload.cancel(true);
    }
    assertEquals(before, b.received.size());
  }

  // --- the agent side ----------------------------------------------------------------------------

  @Test
  public void anAgentOfAnotherAccountGets401() throws Exception {
    register("kim-app", "kim@example.com", "kim-agent@example.com", "/");
    runner.oauthToken("kim-agent-token", "kim-agent@example.com", false);
    runner.oauthToken("other-agent-token", "other-agent@example.com", false);
    assertEquals(401, agentCall("other-agent-token", "kim-app").statusCode());
    assertEquals(401, agentCall("unknown-token", "kim-app").statusCode());
    assertEquals(401, agentCall("kim-agent-token", "no-such-app").statusCode());
  }

  @Test
  public void theRecordsOwnAgentMayPoll() throws Exception {
    register("lena-app", "lena@example.com", "lena-agent@example.com", "/");
    runner.oauthToken("lena-agent-token", "lena-agent@example.com", false);
    HttpResponse<String> r = agentCall("lena-agent-token", "lena-app");
    assertEquals(200, r.statusCode());
    assertEquals("[]", r.body());
  }

  // --- the admin API and the cron -------------------------------------------------------------------

  @Test
  public void onlyAdministratorsMayUseTheAdminApi() throws Exception {
    URI backends = runner.serviceUri("api").resolve("api/backends");
    runner.oauthToken("user-token", "user@example.com", false);
    assertEquals(403, api(HttpRequest.newBuilder(backends)).statusCode());
    assertEquals(403, api(HttpRequest.newBuilder(backends)
        .header("Cookie", "dev_appserver_login=user@example.com:false:1")).statusCode());
    assertEquals(403, api(HttpRequest.newBuilder(backends).header("Authorization", "Bearer user-token")).statusCode());
    assertEquals(403, api(HttpRequest.newBuilder(backends).header("Authorization", "Bearer forged")).statusCode());
    assertEquals(200, api(HttpRequest.newBuilder(backends)
        .header("Cookie", "dev_appserver_login=root@example.com:true:1")).statusCode());
    assertEquals(200, api(HttpRequest.newBuilder(backends).header("Authorization", "Bearer " + ADMIN_TOKEN)).statusCode());
  }

  @Test
  public void theCronRunsOnlyForAppEngineCronOrAnAdministrator() throws Exception {
    URI cron = runner.serviceUri("api").resolve("cron/delete");
    assertEquals(403, api(HttpRequest.newBuilder(cron)).statusCode());
    assertEquals(403, api(HttpRequest.newBuilder(cron)
        .header("Cookie", "dev_appserver_login=user@example.com:false:1")).statusCode());
    assertEquals(200, api(HttpRequest.newBuilder(cron).header("X-Appengine-Cron", "true")).statusCode());
    assertEquals(200, api(HttpRequest.newBuilder(cron)
        .header("Cookie", "dev_appserver_login=root@example.com:true:1")).statusCode());
  }

  @Test
  public void theCronRemovesOldExchangesAndNothingLive() throws Exception {
    TestBackend b = backend("cron-app");
    register("cron-app", "mike@example.com", "cron-agent@example.com", "/");
    agent("cron-app", "cron-agent@example.com", b);
    awaitLive("mike@example.com", "/");
    // An exchange an instance left behind 10 minutes ago, for a backend whose agent is gone.
    String old = runner.inEnvironment(() -> {
      try (DatastoreExchangeStore past = new DatastoreExchangeStore(ExchangeSettings.defaults(),
          Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-10)))) {
        return past.submit("orphaned-app", new Get("/left-behind"));
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    // A live exchange: its backend takes 1.5 s, and the cron runs meanwhile.
    CompletableFuture<HttpResponse<String>> live = http.sendAsync(as("mike@example.com", "/slow").GET().build(),
        HttpResponse.BodyHandlers.ofString());
    Thread.sleep(500);
    HttpResponse<String> cron = api(HttpRequest.newBuilder(runner.serviceUri("api").resolve("cron/delete"))
        .header("X-Appengine-Cron", "true"));
    assertEquals(200, cron.statusCode());
    assertTrue(cron.body(), cron.body().startsWith("deleted "));
    HttpResponse<String> answer = live.get(10, TimeUnit.SECONDS);
    assertEquals(200, answer.statusCode());
    assertEquals("backend cron-app got GET /slow\n", answer.body());
    assertFalse("the old exchange survived", runner.inEnvironment(() -> {
      try (DatastoreExchangeStore store = new DatastoreExchangeStore()) {
        return store.take("orphaned-app", old).isPresent();
      }
    }));
  }

  // --- measurement ----------------------------------------------------------------------------------

  @Test
  public void addedLatencyIsSmall() throws Exception {
    TestBackend b = backend("timed-app");
    register("timed-app", "olga@example.com", "timed-agent@example.com", "/");
    agent("timed-app", "timed-agent@example.com", b);
    awaitLive("olga@example.com", "/");
    HttpRequest direct = HttpRequest.newBuilder(URI.create("http://" + b.target() + "/t")).GET().build();
    HttpRequest proxied = as("olga@example.com", "/t").GET().build();
    long[] directNanos = new long[60];
    long[] proxiedNanos = new long[60];
    for (int i = 0; i < 80; i++) {
      long t0 = System.nanoTime();
      http.send(direct, HttpResponse.BodyHandlers.ofString());
      long t1 = System.nanoTime();
      assertEquals(200, http.send(proxied, HttpResponse.BodyHandlers.ofString()).statusCode());
      long t2 = System.nanoTime();
      if (i >= 20) { // after warm-up
        directNanos[i - 20] = t1 - t0;
        proxiedNanos[i - 20] = t2 - t1;
      }
    }
    java.util.Arrays.sort(directNanos);
    java.util.Arrays.sort(proxiedNanos);
    double added = (proxiedNanos[30] - directNanos[30]) / 1e6;
    System.out.printf("LATENCY direct p50 %.1f ms, through the App Engine flavour p50 %.1f ms (p90 %.1f ms), added p50 %.1f ms%n",
        directNanos[30] / 1e6, proxiedNanos[30] / 1e6, proxiedNanos[54] / 1e6, added);
    assertTrue("added p50 " + added + " ms", added < 1000);
  }

  /** A client GET in wire format, as the user-facing servlet would have stored it. */
  private static final class Get implements ExchangeRequest {
    private final String path;

    Get(String path) {
      this.path = path;
    }

    @Override
    public String user() {
      return "mike@example.com";
    }

    @Override
    public Instant startTime() {
      return Instant.now();
    }

    @Override
    public String method() {
      return "GET";
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      out.write(("GET " + path + " HTTP/1.1\r\nHost: backend\r\n\r\n").getBytes(ISO_8859_1));
    }
  }
}
