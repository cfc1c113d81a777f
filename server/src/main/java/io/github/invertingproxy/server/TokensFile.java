package io.github.invertingproxy.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tokens file of {@code --auth tokens}: one grant per line, {@code TOKEN ROLE [EMAIL]}, where ROLE
 * is {@code admin} (may use the admin API), {@code agent EMAIL} (may serve the backends whose
 * {@code backendUser} is EMAIL) or {@code user EMAIL} (an end user, routed as EMAIL). A token may
 * appear on several lines to hold several roles. Blank lines and lines starting with {@code #} are
 * ignored.
 */
final class TokensFile {
  /** What one token may do. */
  record Grant(boolean admin, Optional<String> agentEmail, Optional<String> userEmail) {}

  // Keyed by the token's SHA-256, so that a lookup's timing says nothing about stored tokens.
  private final Map<String, Grant> grants;

  private TokensFile(Map<String, Grant> grants) {
    this.grants = grants;
  }

  static TokensFile read(Path file) throws IOException {
    if (!Files.isReadable(file)) {
      throw new IOException("tokens file " + file + " does not exist or is not readable");
    }
    return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
  }

  static TokensFile parse(List<String> lines, String source) throws IOException {
    Map<String, Grant> grants = new HashMap<>();
    int number = 0;
    for (String raw : lines) {
      number++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+");
      String where = source + ":" + number + ": ";
      if (parts.length < 2) {
        throw new IOException(where + "expected TOKEN admin, TOKEN agent EMAIL or TOKEN user EMAIL");
      }
      if (parts[0].length() < 16) {
        throw new IOException(where + "token is shorter than 16 characters; use a long random token");
      }
      String key = digest(parts[0]);
      Grant g = grants.getOrDefault(key, new Grant(false, Optional.empty(), Optional.empty()));
      switch (parts[1]) {
        case "admin" -> {
          expect(parts, 2, where);
          g = new Grant(true, g.agentEmail(), g.userEmail());
        }
        case "agent" -> {
          expect(parts, 3, where);
          g = new Grant(g.admin(), Optional.of(email(parts[2], where)), g.userEmail());
        }
        case "user" -> {
          expect(parts, 3, where);
          g = new Grant(g.admin(), g.agentEmail(), Optional.of(email(parts[2], where)));
        }
        default -> throw new IOException(where + "unknown role \"" + parts[1] + "\"; expected admin, agent or user");
      }
      grants.put(key, g);
    }
    return new TokensFile(grants);
  }

  Optional<Grant> lookup(String token) {
    return token.isEmpty() ? Optional.empty() : Optional.ofNullable(grants.get(digest(token)));
  }

  int size() {
    return grants.size();
  }

  private static void expect(String[] parts, int count, String where) throws IOException {
    if (parts.length != count) {
      throw new IOException(where + "role " + parts[1] + " takes " + (count - 2) + " argument(s), got " + (parts.length - 2));
    }
  }

  private static String email(String s, String where) throws IOException {
    if (!s.matches("[^@\\s]+@[^@\\s]+")) {
      throw new IOException(where + "\"" + s + "\" is not an email address");
    }
    return s;
  }

  private static String digest(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is always available", e);
    }
  }
}
