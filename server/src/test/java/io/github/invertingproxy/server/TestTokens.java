package io.github.invertingproxy.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A tokens file with one token per role that the server tests use. */
final class TestTokens {
  static final String ADMIN = "admin-token-0123456789";
  static final String ALICE = "alice-token-0123456789";
  static final String BOB = "bob-token-01234567890";
  static final String AGENT = "agent-token-0123456789";
  static final String OTHER_AGENT = "other-agent-token-0123";

  private TestTokens() {}

  static Path write(Path dir) throws IOException {
    Path file = dir.resolve("tokens");
    Files.writeString(file, String.join("\n",
        "# test grants",
        ADMIN + " admin",
        ALICE + " user alice@example.com",
        BOB + " user bob@example.com",
        AGENT + " agent agent@example.com",
        OTHER_AGENT + " agent other@example.com",
        ""));
    return file;
  }
}
