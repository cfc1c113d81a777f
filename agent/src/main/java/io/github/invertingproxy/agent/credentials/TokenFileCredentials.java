package io.github.invertingproxy.agent.credentials;

import io.github.invertingproxy.agent.observe.AgentObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import java.util.Optional;

/** A bearer token kept in a file, read again when the file's time, size or identity change. */
final class TokenFileCredentials implements ProxyCredentials {
  private final Path path;
  private FileTime readModified;
  private long readSize = -1;
  private Object readFileKey;
  private String header;

  private volatile AgentObserver observer = AgentObserver.NONE;

  TokenFileCredentials(Path path) {
    this.path = path;
  }

  @Override
  public void observeRefreshes(AgentObserver observer) {
    this.observer = observer;
  }

  @Override
  public synchronized Optional<String> authorizationHeader() throws IOException {
    try {
      return Optional.of(readIfChanged());
    } catch (IOException e) {
      observer.credentialRefreshFailed();
      throw e;
    }
  }

  private String readIfChanged() throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new IOException("token file " + path + " does not exist", e);
    }
    // A rotation either rewrites the file (time and size change) or swaps a symlink (identity changes).
    if (header == null || !attributes.lastModifiedTime().equals(readModified) || attributes.size() != readSize
        || !Objects.equals(attributes.fileKey(), readFileKey)) {
      String token = new String(Files.readAllBytes(path), StandardCharsets.UTF_8).strip();
      if (token.isEmpty()) {
        throw new IOException("token file " + path + " is empty");
      }
      if (token.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw new IOException("token file " + path + " holds more than one line or control characters");
      }
      header = "Bearer " + token;
      readModified = attributes.lastModifiedTime();
      readSize = attributes.size();
      readFileKey = attributes.fileKey();
      observer.credentialRefreshed();
    }
    return header;
  }

  @Override
  public String toString() {
    return "token-file:" + path;
  }
}
