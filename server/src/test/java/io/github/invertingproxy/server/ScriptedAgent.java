package io.github.invertingproxy.server;

import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.PendingRequestIds;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** Makes the agent's three calls by hand, so tests can see exactly what the proxy says on the wire. */
final class ScriptedAgent {
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String proxy;
  private final String backendId;
  private final String token;

  ScriptedAgent(String proxy, String backendId, String token) {
    this.proxy = proxy;
    this.backendId = backendId;
    this.token = token;
  }

  HttpRequest.Builder call(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(proxy + path)).timeout(Duration.ofSeconds(60))
        .header(ProtocolHeaders.BACKEND_ID, backendId);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  HttpResponse<String> pendingRaw() throws IOException, InterruptedException {
    return http.send(call("agent/pending").GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  List<String> pending() throws IOException, InterruptedException {
    HttpResponse<String> r = pendingRaw();
    if (r.statusCode() != 200) {
      throw new IOException("agent/pending answered " + r.statusCode() + ": " + r.body());
    }
    return PendingRequestIds.parse(r.body());
  }

  /** Polls until at least one id comes, for up to {@code seconds}. */
  List<String> pendingWithin(int seconds) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      List<String> ids = pending();
      if (!ids.isEmpty()) {
        return ids;
      }
    }
    throw new AssertionError("no pending request within " + seconds + "s");
  }

  HttpResponse<String> take(String id) throws IOException, InterruptedException {
    return http.send(call("agent/request").header(ProtocolHeaders.REQUEST_ID, id).GET().build(),
        HttpResponse.BodyHandlers.ofString(java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  HttpResponse<String> respond(String id, byte[] wireResponse) throws IOException, InterruptedException {
    return http.send(call("agent/response").header(ProtocolHeaders.REQUEST_ID, id)
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofByteArray(wireResponse)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Responds announcing the next-request extension: the answer may carry the next waiting request. */
  HttpResponse<String> respondTakingNext(String id, byte[] wireResponse) throws IOException, InterruptedException {
    return http.send(call("agent/response").header(ProtocolHeaders.REQUEST_ID, id)
        .header(AgentFeatures.HEADER, AgentFeatures.NEXT_REQUEST).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofByteArray(wireResponse)).build(),
        HttpResponse.BodyHandlers.ofString(java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  HttpResponse<String> respond(String id, InputStream wireResponse) throws IOException, InterruptedException {
    return http.send(call("agent/response").header(ProtocolHeaders.REQUEST_ID, id)
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofInputStream(() -> wireResponse)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
