package io.github.invertingproxy.agent.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.OAuth2Credentials;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The gcloud SDK's active account, through the {@code gcloud} command: {@code auth print-access-token},
 * or {@code auth print-identity-token} for an ID token. gcloud keeps and refreshes the account's
 * tokens itself, so asking it again is cheap.
 */
final class GcloudCredentials extends OAuth2Credentials {
  private static final long serialVersionUID = 1L;
  /** gcloud does not say when an access token expires; assume soon, so it is asked often enough. */
  static final Duration ASSUMED_ACCESS_TOKEN_LIFETIME = Duration.ofMinutes(5);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

  private final transient Path gcloud;
  private final String audience;

  /** @param audience the ID token's audience, or null for an access token */
  private GcloudCredentials(Path gcloud, String audience) {
    this.gcloud = gcloud;
    this.audience = audience;
  }

  /** The gcloud command on the {@code PATH} of {@code env}, if there is one. */
  static Optional<GcloudCredentials> find(Map<String, String> env, String audience) {
    String path = env.getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      for (String name : new String[] {"gcloud", "gcloud.cmd"}) {
        Path candidate = Path.of(dir, name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return Optional.of(new GcloudCredentials(candidate, audience));
        }
      }
    }
    return Optional.empty();
  }

  Path command() {
    return gcloud;
  }

  /** The active account's email, or empty when gcloud names none. */
  Optional<String> account() {
    try {
      String account = run(List.of("config", "get-value", "account")).strip();
      return account.isEmpty() || account.equals("(unset)") ? Optional.empty() : Optional.of(account);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  @Override
  public AccessToken refreshAccessToken() throws IOException {
    List<String> args = audience == null
        ? List.of("auth", "print-access-token")
        : List.of("auth", "print-identity-token", "--audiences=" + audience);
    String token = run(args).strip();
    if (token.isEmpty() || token.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
      throw new IOException(gcloud + " " + String.join(" ", args) + " printed no token");
    }
    Instant expires = audience == null
        ? Instant.now().plus(ASSUMED_ACCESS_TOKEN_LIFETIME)
        : jwtExpiry(token).orElse(Instant.now().plus(ASSUMED_ACCESS_TOKEN_LIFETIME));
    return new AccessToken(token, Date.from(expires));
  }

  /** A JWT's {@code exp} claim, read without checking the signature (the token is our own). */
  static Optional<Instant> jwtExpiry(String jwt) {
    String[] parts = jwt.split("\\.");
    if (parts.length < 2) {
      return Optional.empty();
    }
    try {
      JsonNode claims = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(parts[1]));
      JsonNode exp = claims.get("exp");
      return exp != null && exp.canConvertToLong() ? Optional.of(Instant.ofEpochSecond(exp.asLong())) : Optional.empty();
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private String run(List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(gcloud.toString());
    command.addAll(args);
    command.add("--quiet");
    Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    process.getOutputStream().close();
    try {
      byte[] out;
      byte[] err;
      try (InputStream stdout = process.getInputStream(); InputStream stderr = process.getErrorStream()) {
        // gcloud writes little; reading stdout first cannot block on a full stderr pipe of a few lines.
        out = stdout.readNBytes(64 * 1024);
        err = stderr.readNBytes(4096);
      }
      if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(gcloud + " " + String.join(" ", args) + " did not finish within "
            + COMMAND_TIMEOUT.toSeconds() + " s");
      }
      if (process.exitValue() != 0) {
        String why = new String(err, StandardCharsets.UTF_8).strip().lines().reduce((a, b) -> b).orElse("");
        throw new IOException(gcloud + " " + String.join(" ", args) + " failed with status "
            + process.exitValue() + (why.isEmpty() ? "" : ": " + why));
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + gcloud, e);
    }
  }
}
