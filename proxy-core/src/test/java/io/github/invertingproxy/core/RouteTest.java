package io.github.invertingproxy.core;

import static org.junit.Assert.assertEquals;

import io.github.invertingproxy.core.spi.Route;
import io.github.invertingproxy.protocol.BackendRecord;
import java.util.List;
import java.util.Set;
import org.junit.Test;

public class RouteTest {
  private static BackendRecord record(String id, String endUser, String... prefixes) {
    return BackendRecord.builder().id(id).endUser(endUser).backendUser("agent@example.com").pathPrefixes(prefixes).build();
  }

  private static String route(List<BackendRecord> records, Set<String> live, String user, String path) {
    return Route.choose(records, user, path, r -> live.contains(r.id())).toString();
  }

  @Test
  public void longestPrefixAmongTheUsersRecordsWins() {
    List<BackendRecord> records = List.of(record("root", "a@x", "/"), record("app", "a@x", "/app"));
    assertEquals("LIVE(app)", route(records, Set.of("root", "app"), "a@x", "/app/1"));
    assertEquals("LIVE(root)", route(records, Set.of("root", "app"), "a@x", "/other"));
  }

  @Test
  public void usersOwnRecordBeatsALongerAllUsersPrefix() {
    List<BackendRecord> records = List.of(record("mine", "a@x", "/"), record("public", "allUsers", "/app"));
    assertEquals("LIVE(mine)", route(records, Set.of("mine", "public"), "a@x", "/app"));
  }

  @Test
  public void allUsersRecordServesEveryoneElse() {
    List<BackendRecord> records = List.of(record("mine", "a@x", "/"), record("public", "allUsers", "/"));
    assertEquals("LIVE(public)", route(records, Set.of("mine", "public"), "b@x", "/"));
  }

  @Test
  public void anonymousUserMatchesAllUsersOnly() {
    List<BackendRecord> records = List.of(record("mine", "a@x", "/"));
    assertEquals("NO_MATCH", route(records, Set.of("mine"), "", "/"));
  }

  @Test
  public void theUsersLongerDeadPrefixIsNotLiveEvenWhenAShorterOneIsLive() {
    List<BackendRecord> records = List.of(record("nb1", "a@x", "/nb1/"), record("root", "a@x", "/"));
    assertEquals("NOT_LIVE(nb1)", route(records, Set.of("root"), "a@x", "/nb1/page"));
    assertEquals("LIVE(root)", route(records, Set.of("root"), "a@x", "/other"));
  }

  @Test
  public void theUsersDeadRecordIsNotLiveEvenWhenAnAllUsersRecordIsLive() {
    List<BackendRecord> records = List.of(record("mine", "a@x", "/nb1/"), record("public", "allUsers", "/"));
    assertEquals("NOT_LIVE(mine)", route(records, Set.of("public"), "a@x", "/nb1/page"));
  }

  @Test
  public void allUsersRecordsServeAUserOnlyWhereNoneOfTheirOwnMatches() {
    List<BackendRecord> records = List.of(record("mine", "a@x", "/nb1/"), record("public", "allUsers", "/"));
    assertEquals("LIVE(public)", route(records, Set.of("mine", "public"), "a@x", "/elsewhere"));
    assertEquals("NOT_LIVE(public)", route(records, Set.of("mine"), "a@x", "/elsewhere"));
  }

  @Test
  public void aLongerDeadAllUsersPrefixIsNotLiveEvenWhenAShorterOneIsLive() {
    List<BackendRecord> records = List.of(record("docs", "allUsers", "/docs/"), record("site", "allUsers", "/"));
    assertEquals("NOT_LIVE(docs)", route(records, Set.of("site"), "a@x", "/docs/a"));
  }

  @Test
  public void matchWithNoLiveAgentIsReportedAsNotLive() {
    List<BackendRecord> records = List.of(record("app", "a@x", "/app"));
    assertEquals("NOT_LIVE(app)", route(records, Set.of(), "a@x", "/app"));
    assertEquals("NO_MATCH", route(records, Set.of(), "a@x", "/other"));
  }

  @Test
  public void emailsMatchWhateverTheirCase() {
    assertEquals("LIVE(m)", route(List.of(record("m", "Alice@Example.com", "/")), Set.of("m"), "alice@example.com", "/"));
  }

  @Test
  public void tiesGoToTheSmallerIdWhateverTheOrder() {
    BackendRecord b = record("b", "a@x", "/");
    BackendRecord a = record("a", "a@x", "/");
    assertEquals("LIVE(a)", route(List.of(b, a), Set.of("a", "b"), "a@x", "/"));
    assertEquals("LIVE(a)", route(List.of(a, b), Set.of("a", "b"), "a@x", "/"));
  }
}
