package io.github.invertingproxy.appengine;

import com.googlecode.objectify.annotation.Entity;
import com.googlecode.objectify.annotation.Id;
import java.util.Date;

/** When a user request last reached a backend; written at most every {@link RegistrySettings#usedWriteInterval()}. */
@Entity(name = "BackendUse")
final class LastUsedEntity {
  @Id String backendId;
  Date lastUsed;

  LastUsedEntity() {}

  LastUsedEntity(String backendId, Date lastUsed) {
    this.backendId = backendId;
    this.lastUsed = lastUsed;
  }
}
