package io.github.invertingproxy.appengine.runner;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.appengine.api.memcache.MemcacheServiceFactory;
import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.appengine.AppEngineConfig;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Three instances of each App Engine service on the local runner, our real agent and a real
 * backend: the instances share nothing but Datastore and Memcache, yet every client request is
 * answered exactly once, whichever instances its client and its agent calls land on. Services are
 * reached through {@link AppEngineRunner#serviceUri}, never through a route of the main port.
 */
public class MultipleInstancesTest {
  private static final int INSTANCES = 3;
  private static final String ADMIN_TOKEN = "multi-admin-token";
  private static final String USER = "nina@example.com";
  private static final String AGENT_ACCOUNT = "multi-agent@example.com";
  private static final String AGENT_TOKEN = "multi-agent-token";
  private static final int FIVE_MB = 5 * 1024 * 1024;
  /** The id in each path the test sends: /item/ID, /random?...&seed=ID, /echo?id=ID. */
  private static final Pattern ID = Pattern.compile("(?:/item/|seed=|id=)(\\d+)$");

  private static AppEngineRunner runner;
  private static TestBackend backend;
  private static ForwardingAgent agent;
  private static HttpClient http;

  @BeforeClass
  public static void start() throws Exception {
    runner = AppEngineRunner.builder().port(0).instances(INSTANCES)
        .oauthToken(ADMIN_TOKEN, "admin@example.com", true)
        .oauthToken(AGENT_TOKEN, AGENT_ACCOUNT, false)
        // Short polls, so that the agent's long polls move from instance to instance often.
        .parameter(AppEngineConfig.PENDING_TIMEOUT, "2s")
        .parameter(AppEngineConfig.RESPONSE_TIMEOUT, "30s")
        .build().start();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    backend = new TestBackend("multi-app");
    String record = "{\"id\":\"multi-app\",\"endUser\":\"" + USER + "\",\"backendUser\":\"" + AGENT_ACCOUNT
        + "\",\"pathPrefixes\":[\"/\"]}";
    HttpResponse<String> added = http.send(HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(record)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(added.body(), 200, added.statusCode());
    agent = agent();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (get("/").statusCode() == 503) {
      assertTrue("the agent never polled", System.nanoTime() < deadline);
      Thread.sleep(50);
    }
  }

  @AfterClass
  public static void stop() throws Exception {
    if (agent != null) {
      agent.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (runner != null) {
      runner.close();
    }
  }

  private static ForwardingAgent agent() {
    ForwardingAgent a = ForwardingAgent.builder().proxyUrl(runner.serviceUri("agent").toString()).backendId("multi-app")
        .target(backend.target()).credentials(() -> Optional.of("Bearer " + AGENT_TOKEN)).build();
    a.start();
    return a;
  }

  private static HttpRequest.Builder asUser(String path) {
    return HttpRequest.newBuilder(runner.serviceUri("default").resolve(path.substring(1)))
        .header("Cookie", "dev_appserver_login=" + USER + ":false:1").timeout(Duration.ofSeconds(60));
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(asUser(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long[] served(String service) {
    ServiceInstances instances = runner.instances(service);
    long[] counts = new long[instances.count()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = instances.served(i);
    }
    return counts;
  }

  private static long[] since(long[] before, long[] after) {
    long[] delta = new long[after.length];
    for (int i = 0; i < after.length; i++) {
      delta[i] = after[i] - before[i];
    }
    return delta;
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  // --- the tests ---------------------------------------------------------------------------------

  @Test
  public void eachServiceRunsTheRequestedNumberOfInstances() {
    for (String service : List.of("default", "agent", "api")) {
      assertEquals(service, INSTANCES, runner.instances(service).count());
    }
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> AppEngineRunner.builder().instances(0));
    assertEquals("instances 0 is outside 1.." + AppEngineRunner.MAX_INSTANCES, none.getMessage());
    assertThrows(IllegalArgumentException.class, () -> runner.serviceUri("backend"));
  }

  @Test
  public void clientRequestsTakeTurnsOverTheDefaultInstances() throws Exception {
    long[] before = served("default");
    for (int i = 0; i < 3 * INSTANCES; i++) {
      HttpResponse<String> r = get("/turn/" + i);
      assertEquals(200, r.statusCode());
      assertEquals("backend multi-app got GET /turn/" + i + "\n", r.body());
    }
    // Only clients call the default service, so the turns are exact.
    assertArrayEquals(new long[] {3, 3, 3}, since(before, served("default")));
  }

  /** Where one call arrived. */
  private record Arrival(String service, int instance, String path, String requestId) {}

  @Test
  public void aClientOnOneDefaultInstanceIsAnsweredThroughAgentCallsOnOtherInstances() throws Exception {
    List<Arrival> arrivals = new CopyOnWriteArrayList<>();
    runner.instances("default").observe((i, r) ->
        arrivals.add(new Arrival("default", i, r.getHttpURI().getPath(), null)));
    runner.instances("agent").observe((i, r) -> arrivals.add(new Arrival("agent", i, r.getHttpURI().getPath(),
        r.getHeaders().get("X-Inverting-Proxy-Request-ID"))));
    int[] clientsPerInstance = new int[INSTANCES];
    int crossed = 0;
    try {
      for (int n = 0; n < 4 * INSTANCES; n++) {
        int from = arrivals.size();
        HttpResponse<String> r = get("/hop/" + n);
        assertEquals(200, r.statusCode());
        assertEquals("backend multi-app got GET /hop/" + n + "\n", r.body());
        // One exchange at a time: every call that carried a request id since belongs to this one.
        List<Arrival> exchange = new ArrayList<>(arrivals.subList(from, arrivals.size()));
        List<Arrival> client = exchange.stream().filter(a -> a.service().equals("default")).toList();
        List<Arrival> taken = exchange.stream().filter(a -> a.path().equals("/agent/request")).toList();
        List<Arrival> answered = exchange.stream().filter(a -> a.path().equals("/agent/response")).toList();
        assertEquals(exchange.toString(), 1, client.size());
        assertEquals("/hop/" + n, client.get(0).path());
        assertEquals(exchange.toString(), 1, taken.size());
        assertEquals(exchange.toString(), 1, answered.size());
        assertEquals(taken.get(0).requestId(), answered.get(0).requestId());
        clientsPerInstance[client.get(0).instance()]++;
        if (taken.get(0).instance() != answered.get(0).instance()) {
          crossed++;
        }
      }
    } finally {
      runner.instances("default").observe(null);
      runner.instances("agent").observe(null);
    }
    assertArrayEquals(new int[] {4, 4, 4}, clientsPerInstance);
    // The agent's calls of one exchange take the next turns of the agent service, so its request
    // is fetched from one instance and answered on another unless a multiple of three polls came
    // in between, every time.
    assertNotEquals("no exchange was taken on one agent instance and answered on another", 0, crossed);
  }

  @Test
  public void everyRequestIsAnsweredExactlyOnceWhileTheCronRunsAndMemcacheIsFlushed() throws Exception {
    int requests = 24;
    Map<Integer, byte[]> expected = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
    AtomicInteger answered = new AtomicInteger();
    List<String> problems = new CopyOnWriteArrayList<>();
    CountDownLatch someAnswered = new CountDownLatch(requests / 4);
    long[] defaultBefore = served("default");
    long[] agentBefore = served("agent");
    ExecutorService clients = Executors.newFixedThreadPool(6);
    List<Future<?>> done = new ArrayList<>();
    // A second agent for the same backend: both see every pending request, and only one may replay it.
    ForwardingAgent second = agent();
    try {
      for (int n = 0; n < requests; n++) {
        int id = n;
        done.add(clients.submit(() -> {
          HttpRequest request;
          if (id % 4 == 0) {
            byte[] body = new byte[FIVE_MB];
            new Random(id).nextBytes(body);
            expected.put(id, sha256(body));
            request = asUser("/random?bytes=" + FIVE_MB + "&seed=" + id).GET().build();
          } else if (id % 4 == 1) {
            // A streamed upload of unknown length: the client sends it chunked.
            byte[] body = new byte[3 * 1024 * 1024 + id];
            new Random(id).nextBytes(body);
            expected.put(id, sha256(body));
            request = asUser("/echo?id=" + id)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build();
          } else {
            expected.put(id, sha256(("backend multi-app got GET /item/" + id + "\n").getBytes()));
            request = asUser("/item/" + id).GET().build();
          }
          HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
          answers.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
          answered.incrementAndGet();
          if (r.statusCode() != 200) {
            problems.add(id + ": status " + r.statusCode() + " " + new String(r.body()));
          } else if (!MessageDigest.isEqual(expected.get(id), sha256(r.body()))) {
            problems.add(id + ": " + r.body().length + " bytes that differ from what was sent");
          }
          someAnswered.countDown();
          return null;
        }));
      }
      assertTrue("no answers came", someAnswered.await(60, TimeUnit.SECONDS));
      // In the middle of the traffic: Memcache forgets everything, and the cron runs on the api
      // service's instances, one call each.
      runner.inEnvironment(() -> {
        MemcacheServiceFactory.getMemcacheService().clearAll();
        return null;
      });
      assertTrue("every request was answered before the flush", answered.get() < requests);
      long[] apiBefore = served("api");
      for (int i = 0; i < INSTANCES; i++) {
        HttpResponse<String> cron = http.send(HttpRequest.newBuilder(runner.serviceUri("api").resolve("cron/delete"))
            .header("X-Appengine-Cron", "true").GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(cron.body(), 200, cron.statusCode());
        assertTrue(cron.body(), cron.body().startsWith("deleted "));
      }
      assertArrayEquals(new long[] {1, 1, 1}, since(apiBefore, served("api")));
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
      second.close();
    }
    assertEquals(List.of(), problems);
    Map<Integer, Integer> atBackend = new ConcurrentHashMap<>();
    for (String line : backend.received) {
      Matcher m = ID.matcher(line);
      if (m.find()) {
        atBackend.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
      }
    }
    for (int id = 0; id < requests; id++) {
      assertEquals("answers to request " + id, 1, answers.get(id).get());
      assertEquals("request " + id + " at the backend", Integer.valueOf(1), atBackend.get(id));
    }
    assertEquals(requests, atBackend.size());
    assertArrayEquals(new long[] {8, 8, 8}, since(defaultBefore, served("default")));
    for (long n : since(agentBefore, served("agent"))) {
      assertTrue("an agent instance took no call", n > 0);
    }
  }
}
