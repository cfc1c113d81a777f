package io.github.invertingproxy.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.json.gson.GsonFactory;
import com.google.api.client.json.webtoken.JsonWebSignature;
import com.google.api.client.json.webtoken.JsonWebToken;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Google's side of --auth google and iap, on a loopback port: the RSA keys that sign ID tokens
 * ({@code /oauth2/v3/certs}, JWK), IAP's EC P-256 keys ({@code /iap/verify/public_key-jwk}), and the
 * token-info endpoint ({@code /tokeninfo}) for access tokens granted in the test. It signs tokens
 * with the keys it serves, and can make keys it does not serve. It is also a GCE metadata server
 * ({@code GCE_METADATA_HOST}) whose VM account, {@value #VM_ACCOUNT}, gets ID tokens for any audience.
 */
final class FakeGoogleKeys implements Closeable {
  static final String GOOGLE_ISSUER = "https://accounts.google.com";
  static final String VM_ACCOUNT = "vm-sa@test-project.iam.gserviceaccount.com";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** A signing key and the id it is published under. */
  record SigningKey(String kid, KeyPair pair) {}

  private final HttpServer server;
  private volatile SigningKey googleKey = rsaKey("google-1");
  private final SigningKey iapKey = ecKey("iap-1");
  private final Map<String, String> accessTokens = new ConcurrentHashMap<>();
  private final AtomicInteger tokenInfoCalls = new AtomicInteger();
  private final AtomicInteger certFetches = new AtomicInteger();

  FakeGoogleKeys() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 20);
    server.createContext("/oauth2/v3/certs", e -> {
      certFetches.incrementAndGet();
      send(e, 200, JSON.writeValueAsString(Map.of("keys", List.of(rsaJwk(googleKey)))));
    });
    server.createContext("/iap/verify/public_key-jwk", e -> send(e, 200, JSON.writeValueAsString(Map.of("keys", List.of(ecJwk(iapKey))))));
    server.createContext("/tokeninfo", this::tokenInfo);
    server.createContext("/", this::metadata);
    server.start();
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  String googleCertsUrl() {
    return base() + "/oauth2/v3/certs";
  }

  String iapCertsUrl() {
    return base() + "/iap/verify/public_key-jwk";
  }

  String tokenInfoUrl() {
    return base() + "/tokeninfo";
  }

  /** {@code 127.0.0.1:port}, for {@code GCE_METADATA_HOST}. */
  String metadataHost() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** Makes {@code token} an access token of {@code email} that the token-info endpoint knows. */
  void grantAccessToken(String token, String email) {
    accessTokens.put(token, email);
  }

  int tokenInfoCalls() {
    return tokenInfoCalls.get();
  }

  int certFetches() {
    return certFetches.get();
  }

  /** Publishes a new key in place of the old one, as Google does when it rotates its keys. */
  SigningKey rotateGoogleKey(String kid) {
    googleKey = rsaKey(kid);
    return googleKey;
  }

  /** An ID token of {@code email} for {@code audience}, signed with the published key. */
  String idToken(String email, String audience, Duration lifetime) {
    return idToken(googleKey, email, audience, GOOGLE_ISSUER, lifetime);
  }

  /**
   * An ID token signed with any key (for a key that is not published, make one with {@link #rsaKey});
   * a null email makes one without email claims, as GCE's standard format is.
   */
  static String idToken(SigningKey key, String email, String audience, String issuer, Duration lifetime) {
    JsonWebSignature.Header header = new JsonWebSignature.Header().setAlgorithm("RS256").setType("JWT").setKeyId(key.kid());
    JsonWebToken.Payload payload = new JsonWebToken.Payload().setIssuer(issuer).setAudience(audience)
        .setSubject("1234567890").setIssuedAtTimeSeconds(Instant.now().getEpochSecond())
        .setExpirationTimeSeconds(Instant.now().plus(lifetime).getEpochSecond());
    if (email != null) {
      payload.set("email", email);
      payload.set("email_verified", true);
    }
    try {
      return JsonWebSignature.signUsingRsaSha256(key.pair().getPrivate(), GsonFactory.getDefaultInstance(), header, payload);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An assertion as IAP adds it to a request it lets through, signed with IAP's published key. */
  String iapAssertion(String email, String audience, Duration lifetime) {
    return iapAssertion(iapKey, email, audience, lifetime);
  }

  static String iapAssertion(SigningKey key, String email, String audience, Duration lifetime) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", "ES256");
    header.put("typ", "JWT");
    header.put("kid", key.kid());
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", "https://cloud.google.com/iap");
    claims.put("aud", audience);
    claims.put("sub", "accounts.google.com:1234567890");
    claims.put("email", email);
    claims.put("iat", Instant.now().getEpochSecond());
    claims.put("exp", Instant.now().plus(lifetime).getEpochSecond());
    try {
      String signed = B64.encodeToString(JSON.writeValueAsBytes(header)) + "." + B64.encodeToString(JSON.writeValueAsBytes(claims));
      Signature ecdsa = Signature.getInstance("SHA256withECDSAinP1363Format");
      ecdsa.initSign(key.pair().getPrivate());
      ecdsa.update(signed.getBytes(StandardCharsets.US_ASCII));
      return signed + "." + B64.encodeToString(ecdsa.sign());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static SigningKey rsaKey(String kid) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return new SigningKey(kid, generator.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static SigningKey ecKey(String kid) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return new SigningKey(kid, generator.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, String> rsaJwk(SigningKey key) {
    RSAPublicKey pub = (RSAPublicKey) key.pair().getPublic();
    return Map.of("kty", "RSA", "alg", "RS256", "use", "sig", "kid", key.kid(),
        "n", B64.encodeToString(unsigned(pub.getModulus(), 256)), "e", B64.encodeToString(pub.getPublicExponent().toByteArray()));
  }

  private static Map<String, String> ecJwk(SigningKey key) {
    ECPublicKey pub = (ECPublicKey) key.pair().getPublic();
    return Map.of("kty", "EC", "alg", "ES256", "crv", "P-256", "use", "sig", "kid", key.kid(),
        "x", B64.encodeToString(unsigned(pub.getW().getAffineX(), 32)), "y", B64.encodeToString(unsigned(pub.getW().getAffineY(), 32)));
  }

  /** The number big-endian in exactly {@code length} bytes, without the sign byte BigInteger may add. */
  private static byte[] unsigned(BigInteger n, int length) {
    byte[] bytes = n.toByteArray();
    if (bytes.length == length) {
      return bytes;
    }
    byte[] out = new byte[length];
    int copy = Math.min(bytes.length, length);
    System.arraycopy(bytes, bytes.length - copy, out, length - copy, copy);
    return out;
  }

  private void tokenInfo(HttpExchange e) throws IOException {
    tokenInfoCalls.incrementAndGet();
    String query = e.getRequestURI().getRawQuery();
    String token = query == null ? "" : Arrays.stream(query.split("&")).filter(p -> p.startsWith("access_token="))
        .map(p -> URLDecoder.decode(p.substring("access_token=".length()), StandardCharsets.UTF_8)).findFirst().orElse("");
    String email = accessTokens.get(token);
    if (email == null) {
      send(e, 400, "{\"error\":\"invalid_token\",\"error_description\":\"Invalid Value\"}");
      return;
    }
    // Google's token-info answers strings for these fields.
    send(e, 200, JSON.writeValueAsString(Map.of("azp", "client", "aud", "client", "sub", "1234567890",
        "scope", "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform",
        "exp", String.valueOf(Instant.now().plusSeconds(3599).getEpochSecond()), "expires_in", "3599",
        "email", email, "email_verified", "true")));
  }

  private void metadata(HttpExchange e) throws IOException {
    if (!"Google".equals(e.getRequestHeaders().getFirst("Metadata-Flavor"))) {
      send(e, 403, "missing Metadata-Flavor: Google");
      return;
    }
    e.getResponseHeaders().set("Metadata-Flavor", "Google");
    String query = e.getRequestURI().getRawQuery();
    Map<String, String> params = new LinkedHashMap<>();
    for (String pair : query == null ? new String[0] : query.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        params.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    switch (e.getRequestURI().getRawPath()) {
      case "/" -> send(e, 200, "computeMetadata/\n");
      case "/computeMetadata/v1/instance/service-accounts/default/identity" -> {
        // As on GCE: the token names the account's email only in the full format.
        String token = "full".equals(params.get("format"))
            ? idToken(VM_ACCOUNT, params.getOrDefault("audience", ""), Duration.ofHours(1))
            : idToken(googleKey, null, params.getOrDefault("audience", ""), GOOGLE_ISSUER, Duration.ofHours(1));
        send(e, 200, token);
      }
      case "/computeMetadata/v1/instance/service-accounts/default/email" -> send(e, 200, VM_ACCOUNT);
      case "/computeMetadata/v1/universe/universe-domain" -> send(e, 200, "googleapis.com");
      default -> send(e, 404, "not found");
    }
  }

  private static void send(HttpExchange e, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    e.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    e.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = e.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
