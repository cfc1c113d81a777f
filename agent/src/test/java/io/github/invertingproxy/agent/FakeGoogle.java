package io.github.invertingproxy.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.invertingproxy.agent.credentials.GoogleProxyCredentials;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Google's side of the agent's credentials, on a loopback port: an OAuth token endpoint that checks a
 * service account's signed JWT assertion (RFC 7523) with the key it issued, and a GCE metadata server
 * ({@code GCE_METADATA_HOST}) with tokens, the default account's email and instance identity. Every
 * token it hands out is numbered, so tests can see refreshes.
 */
final class FakeGoogle implements Closeable {
  static final String SERVICE_ACCOUNT = "agent-sa@test-project.iam.gserviceaccount.com";
  static final String VM_SERVICE_ACCOUNT = "vm-sa@test-project.iam.gserviceaccount.com";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final KeyPair key;
  private final AtomicInteger accessTokens = new AtomicInteger();
  private final AtomicInteger idTokens = new AtomicInteger();
  private final AtomicInteger metadataTokens = new AtomicInteger();
  private final AtomicInteger vmIdentities = new AtomicInteger();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private volatile int expiresInSeconds = 3600;

  FakeGoogle() throws IOException, GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    key = generator.generateKeyPair();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 20);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "fake-google");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
    server.start();
  }

  /** {@code 127.0.0.1:port}, for {@code GCE_METADATA_HOST}. */
  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** How long the access tokens it hands out live. */
  void expireTokensIn(int seconds) {
    this.expiresInSeconds = seconds;
  }

  int accessTokensIssued() {
    return accessTokens.get();
  }

  int vmIdentitiesIssued() {
    return vmIdentities.get();
  }

  /** Method, path and query of every call, in order. */
  List<String> calls() {
    return List.copyOf(calls);
  }

  /** Writes a service account key file whose token_uri is this server, as the console hands them out. */
  Path writeServiceAccountKey(Path dir) throws IOException {
    String pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    ObjectNode json = JSON.createObjectNode()
        .put("type", "service_account")
        .put("project_id", "test-project")
        .put("private_key_id", "key-1")
        .put("private_key", pem)
        .put("client_email", SERVICE_ACCOUNT)
        .put("client_id", "1234567890")
        .put("auth_uri", "http://" + host() + "/auth")
        .put("token_uri", "http://" + host() + "/token");
    Path file = dir.resolve("service-account.json");
    Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
    return file;
  }

  /** A JWT as Google signs ID tokens (here with the test key), for {@code audience}. */
  String idToken(String audience, String subject, int number) {
    long now = Instant.now().getEpochSecond();
    ObjectNode claims = JSON.createObjectNode().put("iss", "https://accounts.google.com").put("aud", audience)
        .put("sub", subject).put("email", subject).put("iat", now).put("exp", now + 3600).put("n", number);
    return sign(JSON.createObjectNode().put("alg", "RS256").put("typ", "JWT"), claims);
  }

  private String sign(ObjectNode header, ObjectNode claims) {
    try {
      Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
      String input = b64.encodeToString(JSON.writeValueAsBytes(header)) + "."
          + b64.encodeToString(JSON.writeValueAsBytes(claims));
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key.getPrivate());
      signature.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + b64.encodeToString(signature.sign());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      String query = exchange.getRequestURI().getRawQuery();
      calls.add(exchange.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
      if (path.equals("/token") && exchange.getRequestMethod().equals("POST")) {
        token(exchange);
        return;
      }
      if (!"Google".equals(exchange.getRequestHeaders().getFirst("Metadata-Flavor"))) {
        send(exchange, 403, "text/plain", "missing Metadata-Flavor: Google");
        return;
      }
      Map<String, String> params = form(query == null ? "" : query);
      switch (path) {
        case "/" -> send(exchange, 200, "text/plain", "computeMetadata/\n");
        case "/computeMetadata/v1/instance/service-accounts/default/token" -> {
          String scopes = params.getOrDefault("scopes", "");
          if (!scopes.contains("https://www.googleapis.com/auth/cloud-platform") || !scopes.contains("email")) {
            send(exchange, 400, "text/plain", "wrong scopes: " + scopes);
            return;
          }
          send(exchange, 200, "application/json", JSON.createObjectNode()
              .put("access_token", "metadata-token-" + metadataTokens.incrementAndGet())
              .put("expires_in", expiresInSeconds).put("token_type", "Bearer").toString());
        }
        case "/computeMetadata/v1/instance/service-accounts/default/email" ->
            send(exchange, 200, "text/plain", VM_SERVICE_ACCOUNT);
        case "/computeMetadata/v1/universe/universe-domain" -> send(exchange, 200, "text/plain", "googleapis.com");
        case "/computeMetadata/v1/instance/service-accounts/default/identity" -> {
          String audience = params.getOrDefault("audience", "");
          // The agent's own call for its VM identity; ID-token credentials come through the auth library.
          boolean authLibrary = String.valueOf(exchange.getRequestHeaders().getFirst("User-Agent")).contains("Google-HTTP-Java-Client");
          if (params.getOrDefault("format", "").equals("full") && !authLibrary) {
            send(exchange, 200, "text/plain", "vm-identity-" + vmIdentities.incrementAndGet() + "-for-" + audience);
          } else {
            send(exchange, 200, "text/plain", idToken(audience, VM_SERVICE_ACCOUNT, idTokens.incrementAndGet()));
          }
        }
        default -> send(exchange, 404, "text/plain", "not found: " + path);
      }
    }
  }

  /** RFC 7523: a JWT assertion signed with the service account's key; ID tokens when it names an audience. */
  private void token(HttpExchange exchange) throws IOException {
    Map<String, String> form = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
    if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))) {
      send(exchange, 400, "application/json", "{\"error\":\"unsupported_grant_type\"}");
      return;
    }
    String[] jwt = form.getOrDefault("assertion", "").split("\\.");
    JsonNode claims;
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initVerify(key.getPublic());
      signature.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
      if (!signature.verify(Base64.getUrlDecoder().decode(jwt[2]))) {
        send(exchange, 400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":\"bad signature\"}");
        return;
      }
      claims = JSON.readTree(Base64.getUrlDecoder().decode(jwt[1]));
    } catch (GeneralSecurityException | RuntimeException e) {
      send(exchange, 400, "application/json", "{\"error\":\"invalid_grant\"}");
      return;
    }
    if (!SERVICE_ACCOUNT.equals(claims.path("iss").asText())) {
      send(exchange, 400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":\"issuer\"}");
      return;
    }
    if (claims.has("target_audience")) {
      String audience = claims.get("target_audience").asText();
      send(exchange, 200, "application/json", JSON.createObjectNode()
          .put("id_token", idToken(audience, SERVICE_ACCOUNT, idTokens.incrementAndGet())).toString());
      return;
    }
    String scope = claims.path("scope").asText();
    if (!List.of(scope.split(" ")).containsAll(GoogleProxyCredentials.SCOPES)) {
      send(exchange, 400, "application/json", "{\"error\":\"invalid_scope\",\"error_description\":\"" + scope + "\"}");
      return;
    }
    send(exchange, 200, "application/json", JSON.createObjectNode()
        .put("access_token", "ya29.fake-" + accessTokens.incrementAndGet())
        .put("expires_in", expiresInSeconds).put("token_type", "Bearer").toString());
  }

  private static Map<String, String> form(String text) {
    Map<String, String> values = new HashMap<>();
    for (String pair : text.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        values.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return values;
  }

  private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", type);
    exchange.getResponseHeaders().add("Metadata-Flavor", "Google");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
