package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.invertingproxy.protocol.BackendRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The admin API's GETs tell, beside each record, what the stand-alone server knows of its agent. */
public class BackendStatusTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private StandaloneServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().port(0).build().start();
    server.registry().add(BackendRecord.builder().id("b1").endUser(BackendRecord.ALL_USERS)
        .backendUser("agent@example.com").pathPrefixes(List.of("/")).build());
  }

  @After
  public void stop() throws Exception {
    server.close();
  }

  private JsonNode status() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.adminUrl() + "api/backends/b1"))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(r.body(), 200, r.statusCode());
    return JSON.readTree(r.body());
  }

  @Test
  public void aBackendWhoseAgentNeverPolledIsNotLiveAndHasNoLastPoll() throws Exception {
    JsonNode b1 = status();
    assertFalse(b1.get("live").asBoolean());
    assertFalse(b1.has("lastSeen"));
    assertEquals(0, b1.get("agentsConnected").asInt());
    assertEquals(0, b1.get("requestsInFlight").asInt());
  }

  @Test
  public void aPollMakesTheBackendLiveWithItsTime() throws Exception {
    Instant before = Instant.now().minusSeconds(1);
    server.registry().markSeen("b1");
    JsonNode b1 = status();
    assertTrue(b1.get("live").asBoolean());
    assertFalse(Instant.parse(b1.get("lastSeen").asText()).isBefore(before));
  }

  @Test
  public void aHeldPollCountsAsAConnectedAgentAndAWaitingClientAsARequestInFlight() throws Exception {
    server.registry().markSeen("b1");
    CompletableFuture<List<String>> poll = server.exchanges().awaitPending("b1", Duration.ofSeconds(30));
    assertEquals(1, status().get("agentsConnected").asInt());

    CompletableFuture<HttpResponse<String>> client = http.sendAsync(
        HttpRequest.newBuilder(URI.create(server.url() + "wait")).GET().build(), HttpResponse.BodyHandlers.ofString());
    List<String> ids = poll.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(1, ids.size());
    JsonNode b1 = status();
    assertEquals(0, b1.get("agentsConnected").asInt());
    assertEquals(1, b1.get("requestsInFlight").asInt());
    assertFalse(client.isDone());
  }
}
