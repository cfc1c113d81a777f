package io.github.invertingproxy.appengine;

/** The Memcache keys of exchanges; one place so that writers and readers agree. */
final class CacheKeys {
  private CacheKeys() {}

  /** The exchange's state marker, see {@link ExchangeMarker}. */
  static String exchange(String exchangeId) {
    return "exchange:" + exchangeId;
  }

  static String part(String exchangeId, MessageKind kind, String upload, int index) {
    return "part:" + exchangeId + ":" + kind.partName(upload, index);
  }

  /** How many requests were ever announced for the backend (a counter; it restarts when evicted). */
  static String pendingCount(String backendId) {
    return "pending-count:" + backendId;
  }

  /** The id of the backend's {@code sequence}-th announced request. */
  static String pending(String backendId, long sequence) {
    return "pending:" + backendId + ":" + sequence;
  }
}
