package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendRecordJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;

/**
 * Backend records kept in one JSON file, replaced atomically on every change, so that a crash
 * mid-write leaves either the old file or the new one, never half of each.
 */
public final class BackendRecordFile {
  private final Path file;

  public BackendRecordFile(Path file) {
    this.file = requireNonNull(file, "file");
  }

  /** The file {@code backends.json} in {@code dataDir}, which is created if missing. */
  public static BackendRecordFile in(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    return new BackendRecordFile(dataDir.resolve("backends.json"));
  }

  public Path path() {
    return file;
  }

  public List<BackendRecord> load() throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    try {
      return BackendRecordJson.parseList(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot read backend records from " + file + ": " + e.getMessage(), e);
    }
  }

  public void save(Collection<BackendRecord> records) {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.writeString(temp, BackendRecordJson.toJson(records), StandardCharsets.UTF_8);
      try {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save backend records to " + file, e);
    }
  }
}
