package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BackendRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class RecordPersistenceTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void recordsSurviveARestart() throws Exception {
    Path data = tmp.getRoot().toPath().resolve("data");
    BackendRecord r = BackendRecord.builder().id("keep").endUser("allUsers").backendUser("a@example.com")
        .pathPrefixes("/", "/x").build();
    try (StandaloneServer first = StandaloneServer.builder().port(0).dataDir(data).build().start()) {
      first.registry().add(r);
      first.registry().markUsed("keep");
    }
    assertTrue(Files.exists(data.resolve("backends.json")));
    try (StandaloneServer second = StandaloneServer.builder().port(0).dataDir(data).build().start()) {
      List<BackendRecord> records = second.registry().list();
      assertEquals(1, records.size());
      assertEquals(r, records.get(0).withLastUsed(null));
      assertTrue("lastUsed survives too", records.get(0).lastUsed().isPresent());
    }
  }

  @Test
  public void noTemporaryFileIsLeftBehind() throws Exception {
    Path data = tmp.getRoot().toPath().resolve("data");
    try (StandaloneServer s = StandaloneServer.builder().port(0).dataDir(data).build().start()) {
      s.registry().add(BackendRecord.builder().id("a").endUser("allUsers").backendUser("a@b").pathPrefixes("/").build());
      s.registry().delete("a");
    }
    try (var files = Files.list(data)) {
      assertEquals(List.of(data.resolve("backends.json")), files.toList());
    }
  }
}
