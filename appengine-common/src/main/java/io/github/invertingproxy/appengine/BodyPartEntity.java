package io.github.invertingproxy.appengine;

import com.googlecode.objectify.Key;
import com.googlecode.objectify.annotation.Entity;
import com.googlecode.objectify.annotation.Id;
import com.googlecode.objectify.annotation.Index;
import com.googlecode.objectify.annotation.Parent;
import java.util.Date;

/**
 * One slice of a serialized request or response, under Datastore's 1 MB entity limit. Its key is
 * computed (exchange, message, index), so reading a message needs no query.
 */
@Entity(name = "BodyPart")
final class BodyPartEntity {
  @Parent Key<ExchangeEntity> exchange;
  /** {@code request-N} or {@code response-UPLOAD-N}. */
  @Id String name;
  /** Lets the cleanup find parts whose exchange was never stored (a request cut short). */
  @Index Date created;
  byte[] data;

  BodyPartEntity() {}

  BodyPartEntity(String exchangeId, MessageKind kind, String upload, int index, byte[] data, Date created) {
    this.exchange = ExchangeEntity.key(exchangeId);
    this.name = kind.partName(upload, index);
    this.data = data;
    this.created = created;
  }

  static Key<BodyPartEntity> key(String exchangeId, MessageKind kind, String upload, int index) {
    return Key.create(ExchangeEntity.key(exchangeId), BodyPartEntity.class, kind.partName(upload, index));
  }
}
