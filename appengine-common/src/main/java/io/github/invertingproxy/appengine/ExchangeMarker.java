package io.github.invertingproxy.appengine;

/**
 * The Memcache copy of an exchange's state, which the client's wait polls: {@code N} while the
 * response is awaited, {@code B} once the agent has begun sending it, {@code R<parts>:<upload>} once
 * it is stored in that many parts by that upload, {@code F} once the client is done. Missing means Memcache forgot, and
 * the reader asks Datastore.
 */
final class ExchangeMarker {
  static final String WAITING = "N";
  static final String BEGUN = "B";
  static final String FINISHED = "F";

  private ExchangeMarker() {}

  /** Where a stored response is: its part count and the upload that wrote them (null: unnamed). */
  record Stored(int parts, String upload) {}

  static String responded(int parts, String upload) {
    return "R" + parts + ":" + upload;
  }

  /** The stored response the marker names, or null when it does not say that one is stored. */
  static Stored stored(Object marker) {
    if (marker instanceof String s && s.startsWith("R")) {
      int colon = s.indexOf(':');
      try {
        return new Stored(Integer.parseInt(s.substring(1, colon < 0 ? s.length() : colon)),
            colon < 0 ? null : s.substring(colon + 1));
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }
}
