package io.github.invertingproxy.appengine;

import com.googlecode.objectify.Key;
import com.googlecode.objectify.annotation.Entity;
import com.googlecode.objectify.annotation.Id;
import com.googlecode.objectify.annotation.Index;
import java.util.Date;

/**
 * One client request and, once the agent answered, its response. The serialized messages are
 * {@link BodyPartEntity} children of this entity; this entity holds how many parts each has.
 */
@Entity(name = "Exchange")
final class ExchangeEntity {
  /** Where an exchange stands. */
  enum State {
    /** Waiting for the agent to take it. */
    NEW,
    /** The agent took the request; the client waits for the response. */
    TAKEN,
    /** The response is stored; the client reads it. */
    RESPONDED,
    /** The client is done; only the cleanup still cares. */
    FINISHED
  }

  @Id String id;
  @Index String backendId;
  @Index State state;
  @Index Date created;
  String user;
  /** RFC 3339 with nanoseconds, as the agent receives it. */
  String startTime;
  String method;
  int requestParts;
  long requestLength;
  int responseParts;
  long responseLength;
  /**
   * Which upload of the response was stored: each {@code agent/response} call writes parts of its
   * own, so that a retry on another instance and the call it replaces never touch each other's.
   * Null for a response stored before uploads were told apart.
   */
  String responseUpload;

  ExchangeEntity() {}

  static Key<ExchangeEntity> key(String id) {
    return Key.create(ExchangeEntity.class, id);
  }
}
