package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.Test;

public class BackendStatusJsonTest {
  private static final BackendRecord RECORD = BackendRecord.builder().id("nb").endUser("allUsers")
      .backendUser("agent@example.com").pathPrefixes(List.of("/")).build();

  @Test
  public void theWriterAddsTheStatusFieldsItKnows() {
    BackendStatus status = new BackendStatus(Optional.of(Instant.parse("2026-01-02T03:04:05Z")), true,
        OptionalInt.of(2), OptionalInt.of(0));
    assertEquals("{\"id\":\"nb\",\"endUser\":\"allUsers\",\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"/\"],"
        + "\"lastSeen\":\"2026-01-02T03:04:05Z\",\"live\":true,\"agentsConnected\":2,\"requestsInFlight\":0}",
        BackendRecordJson.toJson(RECORD, status));
  }

  @Test
  public void countsTheStoreCannotTellAreLeftOut() {
    assertEquals("[{\"id\":\"nb\",\"endUser\":\"allUsers\",\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"/\"],"
        + "\"live\":false}]",
        BackendRecordJson.toJson(List.of(RECORD), Map.of("nb", BackendStatus.seen(Optional.empty(), false))));
  }

  @Test
  public void aRecordSentBackWithItsStatusFieldsParsesAsTheRecordAlone() {
    String json = BackendRecordJson.toJson(RECORD, new BackendStatus(Optional.of(Instant.EPOCH), true,
        OptionalInt.of(1), OptionalInt.of(3)));
    assertEquals(RECORD, BackendRecordJson.parse(json));
  }
}
