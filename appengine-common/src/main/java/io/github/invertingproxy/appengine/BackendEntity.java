package io.github.invertingproxy.appengine;

import com.googlecode.objectify.annotation.Entity;
import com.googlecode.objectify.annotation.Id;
import com.googlecode.objectify.annotation.Index;
import io.github.invertingproxy.protocol.BackendRecord;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;

/** A backend record as stored; {@code lastUsed} and liveness live in their own entities. */
@Entity(name = "Backend")
final class BackendEntity {
  @Id String id;
  String endUser;
  /** {@code endUser} lower-cased: routing compares emails without regard to case. */
  @Index String endUserKey;
  String backendUser;
  List<String> pathPrefixes = new ArrayList<>();
  Date created;

  BackendEntity() {}

  static BackendEntity of(BackendRecord record, Date created) {
    BackendEntity e = new BackendEntity();
    e.id = record.id();
    e.endUser = record.endUser();
    e.endUserKey = endUserKey(record.endUser());
    e.backendUser = record.backendUser();
    e.pathPrefixes = new ArrayList<>(record.pathPrefixes());
    e.created = created;
    return e;
  }

  static String endUserKey(String endUser) {
    return endUser.toLowerCase(Locale.ROOT);
  }

  BackendRecord toRecord() {
    return BackendRecord.builder().id(id).endUser(endUser).backendUser(backendUser)
        .pathPrefixes(pathPrefixes == null ? List.of() : pathPrefixes).build();
  }
}
