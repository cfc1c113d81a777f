package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.Test;

public class BackendRecordTest {
  @Test
  public void jsonRoundTripKeepsEveryField() {
    BackendRecord r = BackendRecord.builder().id("b-1").endUser("alice@example.com")
        .backendUser("agent@example.com").pathPrefixes("/", "/app").lastUsed(Instant.parse("2026-01-02T03:04:05.123456789Z"))
        .build();
    String json = BackendRecordJson.toJson(List.of(r));
    assertTrue(json, json.contains("\"lastUsed\":\"2026-01-02T03:04:05.123456789Z\""));
    assertEquals(List.of(r), BackendRecordJson.parseList(json));
  }

  @Test
  public void parseIgnoresOutputOnlyLastUsed() {
    BackendRecord r = BackendRecordJson.parse(
        "{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"],\"lastUsed\":\"bogus\"}");
    assertTrue(r.lastUsed().isEmpty());
    assertTrue(r.isForAllUsers());
  }

  @Test
  public void missingFieldsAreNamed() {
    assertEquals("id", field("{\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]}"));
    assertEquals("endUser", field("{\"id\":\"x\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]}"));
    assertEquals("backendUser", field("{\"id\":\"x\",\"endUser\":\"allUsers\",\"pathPrefixes\":[\"/\"]}"));
    assertEquals("pathPrefixes", field("{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\"}"));
    assertEquals("pathPrefixes", field("{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[]}"));
  }

  @Test
  public void invalidFieldsAreNamed() {
    assertEquals("pathPrefixes", field("{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"app\"]}"));
    assertEquals("endUser", field("{\"id\":\"x\",\"endUser\":\"bob\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]}"));
    assertEquals("id", field("{\"id\":\"a/b\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]}"));
    assertEquals("id", field("{\"id\":7,\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]}"));
    assertEquals("", field("[1,2]"));
    assertEquals("", field("{not json"));
  }

  @Test
  public void dataAfterTheRecordIsRefused() {
    InvalidBackendRecordException e = assertThrows(InvalidBackendRecordException.class, () -> BackendRecordJson.parse(
        "{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"]} {\"id\":\"y\"}"));
    assertTrue(e.getMessage(), e.getMessage().contains("after the record"));
  }

  @Test
  public void aDuplicateKeyIsRefusedAndNamed() {
    InvalidBackendRecordException e = assertThrows(InvalidBackendRecordException.class, () -> BackendRecordJson.parse(
        "{\"id\":\"x\",\"endUser\":\"allUsers\",\"endUser\":\"bob@example.com\",\"backendUser\":\"a@b\","
            + "\"pathPrefixes\":[\"/\"]}"));
    assertEquals("endUser", e.field());
    assertTrue(e.getMessage(), e.getMessage().contains("endUser") && e.getMessage().contains("twice"));
  }

  @Test
  public void unknownFieldsAreRefusedAndNamed() {
    InvalidBackendRecordException e = assertThrows(InvalidBackendRecordException.class, () -> BackendRecordJson.parse(
        "{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"a@b\",\"pathPrefixes\":[\"/\"],"
            + "\"pathPrefix\":\"/typo\"}"));
    assertEquals("pathPrefix", e.field());
    assertTrue(e.getMessage(), e.getMessage().contains("unknown field \"pathPrefix\""));
  }

  @Test
  public void backendUserMustBeAnEmail() {
    assertEquals("backendUser", field("{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"allUsers\","
        + "\"pathPrefixes\":[\"/\"]}"));
    assertEquals("backendUser", field("{\"id\":\"x\",\"endUser\":\"allUsers\",\"backendUser\":\"agent\","
        + "\"pathPrefixes\":[\"/\"]}"));
    assertEquals("endUser", field("{\"id\":\"x\",\"endUser\":\"everyone\",\"backendUser\":\"a@b\","
        + "\"pathPrefixes\":[\"/\"]}"));
  }

  @Test
  public void longestPrefixWins() {
    BackendRecord r = BackendRecord.builder().id("x").endUser("allUsers").backendUser("a@b")
        .pathPrefixes("/", "/app", "/app/v2").build();
    assertEquals(7, r.longestPrefixMatching("/app/v2/x"));
    assertEquals(4, r.longestPrefixMatching("/apple"));
    assertEquals(1, r.longestPrefixMatching("/other"));
  }

  private static String field(String json) {
    return assertThrows(InvalidBackendRecordException.class, () -> BackendRecordJson.parse(json)).field();
  }
}
