package io.github.invertingproxy.appengine;

/**
 * The Memcache copy of an exchange's state, which the client's wait polls: {@code N} while the
 * response is awaited, {@code B} once the agent has begun sending it, {@code R<parts>} once it is
 * stored in that many parts, {@code F} once the client is done. Missing means Memcache forgot, and
 * the reader asks Datastore.
 */
final class ExchangeMarker {
  static final String WAITING = "N";
  static final String BEGUN = "B";
  static final String FINISHED = "F";

  private ExchangeMarker() {}

  static String responded(int parts) {
    return "R" + parts;
  }

  /** The response's part count, or -1 when the marker does not say it is stored. */
  static int respondedParts(Object marker) {
    if (marker instanceof String s && s.startsWith("R")) {
      try {
        return Integer.parseInt(s.substring(1));
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }
}
