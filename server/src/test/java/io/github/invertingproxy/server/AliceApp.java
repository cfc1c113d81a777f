package io.github.invertingproxy.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.github.invertingproxy.protocol.BackendRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A started stand-alone server (test tokens, so {@code --auth tokens}) with backend "alice-app" for
 * alice@example.com on every path, served by agent@example.com, whose scripted agent has polled
 * once; and alice's HTTP/1.1 client.
 */
final class AliceApp implements AutoCloseable {
  final StandaloneServer server;
  final ScriptedAgent agent;
  private final HttpClient clients = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private AliceApp(StandaloneServer server) throws Exception {
    this.server = server;
    server.registry().add(BackendRecord.builder().id("alice-app").endUser("alice@example.com")
        .backendUser("agent@example.com").pathPrefixes("/").build());
    agent = new ScriptedAgent(server.url(), "alice-app", TestTokens.AGENT);
    agent.pendingRaw(); // the backend is live from now on
  }

  /** Starts {@code server} (port 0 and the test tokens are set here) and registers alice-app. */
  static AliceApp start(Path tmp, StandaloneServer.Builder server) throws Exception {
    return new AliceApp(server.port(0).tokensFile(TestTokens.write(tmp)).build().start());
  }

  /** Sends {@code request} as alice. */
  CompletableFuture<HttpResponse<String>> client(HttpRequest.Builder request) {
    return clients.sendAsync(request.header("Authorization", "Bearer " + TestTokens.ALICE).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A request to {@code path} on the server (relative, no leading slash). */
  HttpRequest.Builder to(String path) {
    return HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(30));
  }

  /** A serialized message as the agent sends it. */
  static byte[] wire(String s) {
    return s.getBytes(ISO_8859_1);
  }

  @Override
  public void close() throws Exception {
    server.close();
  }
}
