package io.github.invertingproxy.core.memory;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendRecordJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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

  /**
   * The records in the file; none when it does not exist.
   *
   * @throws IOException naming the file and the problem when it is not UTF-8, not a JSON array of
   *     valid records, or holds an id twice; the file is left as it is
   */
  public List<BackendRecord> load() throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    byte[] bytes = Files.readAllBytes(file);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw unreadable("it is not UTF-8 text");
    }
    if (text.isBlank() || text.strip().equals("null")) {
      // Parsed as no records, the next change would overwrite whatever the file was meant to hold.
      throw unreadable("it holds " + (text.isBlank() ? "nothing" : "null") + ", not a JSON array of records");
    }
    List<BackendRecord> records;
    try {
      records = BackendRecordJson.parseList(text);
    } catch (IllegalArgumentException e) {
      throw unreadable(e.getMessage());
    }
    Set<String> ids = new HashSet<>();
    for (BackendRecord r : records) {
      if (!ids.add(r.id())) {
        throw unreadable("id \"" + r.id() + "\" appears twice");
      }
    }
    return records;
  }

  private IOException unreadable(String problem) {
    return new IOException("cannot read backend records from " + file + ": " + problem);
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
