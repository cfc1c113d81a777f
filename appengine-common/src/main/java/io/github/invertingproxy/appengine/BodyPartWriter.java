package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;

import com.googlecode.objectify.Key;
import com.googlecode.objectify.Result;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;

/**
 * Stores a serialized message as it is written: every full part goes to Datastore (one save in
 * flight while the next part fills) and to Memcache. Needs an Objectify context on the writing
 * thread. Refuses to grow past {@link ExchangeSettings#maxMessageBytes()}.
 */
final class BodyPartWriter extends OutputStream {
  private final SharedCache cache;
  private final ExchangeSettings settings;
  private final String exchangeId;
  private final MessageKind kind;
  private final String upload;
  private final Date created;
  private byte[] buffer;
  private int fill;
  private int parts;
  private long length;
  private Result<?> inFlight;
  private boolean tooLarge;
  private boolean closed;

  /** @param upload names this upload's parts apart from another's of the same message; null for a request */
  BodyPartWriter(SharedCache cache, ExchangeSettings settings, String exchangeId, MessageKind kind, String upload,
      Date created) {
    this.cache = cache;
    this.settings = settings;
    this.exchangeId = exchangeId;
    this.kind = kind;
    this.upload = upload;
    this.created = created;
    this.buffer = new byte[settings.partSize()];
  }

  @Override
  public void write(int b) throws MessageTooLargeException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws MessageTooLargeException {
    if (closed) {
      throw new IllegalStateException("parts of " + exchangeId + " are already closed");
    }
    if (length + len > settings.maxMessageBytes()) {
      tooLarge = true;
      throw new MessageTooLargeException(settings.maxMessageBytes());
    }
    length += len;
    while (len > 0) {
      int n = Math.min(len, buffer.length - fill);
      System.arraycopy(b, off, buffer, fill, n);
      fill += n;
      off += n;
      len -= n;
      if (fill == buffer.length) {
        storePart();
      }
    }
  }

  /** Stores the last part and waits until every part is in Datastore. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (fill > 0) {
      storePart();
    }
    awaitInFlight();
  }

  /** Whether a write was refused for passing the size limit. */
  boolean tooLarge() {
    return tooLarge;
  }

  int parts() {
    return parts;
  }

  long length() {
    return length;
  }

  /** Removes whatever was stored, after a failure. */
  void discard() {
    closed = true;
    awaitInFlight();
    List<Key<BodyPartEntity>> keys = new ArrayList<>(parts);
    List<String> cacheKeys = new ArrayList<>(parts);
    for (int i = 0; i < parts; i++) {
      keys.add(BodyPartEntity.key(exchangeId, kind, upload, i));
      cacheKeys.add(CacheKeys.part(exchangeId, kind, upload, i));
    }
    if (!keys.isEmpty()) {
      ofy().delete().keys(keys).now();
      cache.deleteAll(cacheKeys);
    }
    parts = 0;
    length = 0;
    fill = 0;
  }

  private void storePart() {
    byte[] data = fill == buffer.length ? buffer : Arrays.copyOf(buffer, fill);
    awaitInFlight();
    inFlight = ofy().save().entity(new BodyPartEntity(exchangeId, kind, upload, parts, data, created));
    cache.put(CacheKeys.part(exchangeId, kind, upload, parts), data, settings.cacheLifetime());
    parts++;
    fill = 0;
    if (data == buffer) {
      buffer = new byte[settings.partSize()];
    }
  }

  private void awaitInFlight() {
    if (inFlight != null) {
      inFlight.now();
      inFlight = null;
      // Saved entities stay in the session cache; drop them so a large message is not held twice.
      ofy().clear();
    }
  }
}
