package io.github.invertingproxy.appengine;

import com.googlecode.objectify.annotation.Entity;
import com.googlecode.objectify.annotation.Id;
import java.util.Date;

/**
 * When a backend's agent last polled. Kept apart from the record so that the frequent writes never
 * contend with admin edits; written at most every {@link RegistrySettings#seenWriteInterval()}.
 */
@Entity(name = "AgentSeen")
final class LivenessEntity {
  @Id String backendId;
  Date lastSeen;

  LivenessEntity() {}

  LivenessEntity(String backendId, Date lastSeen) {
    this.backendId = backendId;
    this.lastSeen = lastSeen;
  }
}
