package io.github.invertingproxy.appengine.runner;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.appengine.AppEngineConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * On App Engine, the Users API's login cookie belongs to the proxy: the backend gets the request's
 * other cookies (its own) but never the login, and protocol headers an agent adds never reach the client.
 */
public class AppEngineCredentialsStayTest {
  private static final String ADMIN_TOKEN = "admin-token";
  private static final String AGENT_TOKEN = "agent-token";

  private AppEngineRunner runner;
  private HttpServer backend;
  private ForwardingAgent agent;
  private final LinkedBlockingQueue<Headers> received = new LinkedBlockingQueue<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    runner = AppEngineRunner.builder().port(0)
        .oauthToken(ADMIN_TOKEN, "admin@example.com", true)
        .oauthToken(AGENT_TOKEN, "agent@example.com", false)
        .parameter(AppEngineConfig.RESPONSE_TIMEOUT, "10s")
        .parameter(AppEngineConfig.PENDING_TIMEOUT, "5s")
        .build().start();
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    backend.createContext("/", exchange -> {
      received.add(exchange.getRequestHeaders());
      exchange.getRequestBody().readAllBytes();
      exchange.getResponseHeaders().add("X-Inverting-Proxy-Request-ID", "forged");
      exchange.getResponseHeaders().add("X-Kept", "yes");
      exchange.sendResponseHeaders(200, 2);
      exchange.getResponseBody().write("ok".getBytes(UTF_8));
      exchange.close();
    });
    backend.start();
    String record = "{\"id\":\"app\",\"endUser\":\"alice@example.com\",\"backendUser\":\"agent@example.com\","
        + "\"pathPrefixes\":[\"/\"]}";
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(runner.serviceUri("api").resolve("api/backends"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(record)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(created.body(), 200, created.statusCode());
    agent = ForwardingAgent.builder().proxyUrl(runner.serviceUri("agent").toString()).backendId("app")
        .target("127.0.0.1:" + backend.getAddress().getPort()).credentials(() -> Optional.of("Bearer " + AGENT_TOKEN))
        .build();
    agent.start();
  }

  @After
  public void stop() throws Exception {
    if (agent != null) {
      agent.close();
    }
    if (backend != null) {
      backend.stop(0);
    }
    if (runner != null) {
      runner.close();
    }
  }

  /** A request signed in as alice, retried while the agent has not polled yet (503). */
  private HttpResponse<String> signedInRequest() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(runner.uri().resolve("page"))
          .header("Cookie", "session=backend-1; dev_appserver_login=alice@example.com:false:1; theme=dark")
          .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 503 || System.nanoTime() > deadline) {
        return r;
      }
      received.clear();
      Thread.sleep(50);
    }
  }

  @Test
  public void theLoginCookieStaysWithTheProxyAndTheBackendsOwnCookiesArrive() throws Exception {
    HttpResponse<String> response = signedInRequest();
    assertEquals(response.body(), 200, response.statusCode());
    Headers got = received.poll(10, TimeUnit.SECONDS);
    List<String> cookies = got.get("Cookie");
    assertEquals(List.of("session=backend-1; theme=dark"), cookies);
  }

  @Test
  public void protocolHeadersFromTheAgentNeverReachTheClient() throws Exception {
    HttpResponse<String> response = signedInRequest();
    assertEquals(response.body(), 200, response.statusCode());
    assertEquals("yes", response.headers().firstValue("X-Kept").orElseThrow());
    for (String name : response.headers().map().keySet()) {
      assertFalse("the client got " + name, name.toLowerCase(Locale.ROOT).startsWith("x-inverting-proxy-"));
    }
    assertTrue(response.headers().firstValue("X-Inverting-Proxy-Request-ID").isEmpty());
  }
}
