package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;

import java.io.IOException;
import java.io.InputStream;

/** Reads a stored message part by part, from Memcache where it still is, else from Datastore. */
final class BodyPartReader extends InputStream {
  private final SharedCache cache;
  private final String exchangeId;
  private final MessageKind kind;
  private final String upload;
  private final int parts;
  private byte[] current;
  private int position;
  private int next;

  /** @param upload the upload whose parts to read, as the writer named it */
  BodyPartReader(SharedCache cache, String exchangeId, MessageKind kind, String upload, int parts) {
    this.cache = cache;
    this.exchangeId = exchangeId;
    this.kind = kind;
    this.upload = upload;
    this.parts = parts;
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    return current[position++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, current.length - position);
    System.arraycopy(current, position, b, off, n);
    position += n;
    return n;
  }

  @Override
  public int available() {
    return current == null ? 0 : current.length - position;
  }

  private boolean fill() throws IOException {
    while (current == null || position == current.length) {
      if (next >= parts) {
        return false;
      }
      current = load(next++);
      position = 0;
    }
    return true;
  }

  private byte[] load(int index) throws IOException {
    if (cache.get(CacheKeys.part(exchangeId, kind, upload, index)) instanceof byte[] cached) {
      return cached;
    }
    BodyPartEntity part =
        Persistence.run(() -> ofy().load().key(BodyPartEntity.key(exchangeId, kind, upload, index)).now());
    if (part == null || part.data == null) {
      throw new IOException("part " + index + " of " + parts + " of the " + kind.name().toLowerCase(java.util.Locale.ROOT)
          + " of exchange " + exchangeId + " is gone (cleaned up?)");
    }
    return part.data;
  }
}
