package io.github.invertingproxy.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The {@code name=value} pairs of a request's {@code Cookie} fields (RFC 6265 section 4.2). */
public final class CookiePairs {
  private CookiePairs() {}

  /**
   * {@code headers} without the cookies named {@code names} (case-sensitive, as cookie names are).
   * A {@code Cookie} field that loses no pair is kept exactly as it was; one that loses all is dropped.
   */
  public static Headers without(Headers headers, Set<String> names) {
    List<HeaderField> kept = new ArrayList<>(headers.size());
    boolean changed = false;
    for (HeaderField f : headers) {
      if (!f.is("Cookie")) {
        kept.add(f);
        continue;
      }
      List<String> pairs = new ArrayList<>();
      boolean dropped = false;
      for (String pair : f.value().split(";")) {
        String trimmed = pair.trim();
        int eq = trimmed.indexOf('=');
        String name = (eq < 0 ? trimmed : trimmed.substring(0, eq)).trim();
        if (names.contains(name)) {
          dropped = true;
        } else if (!trimmed.isEmpty()) {
          pairs.add(trimmed);
        }
      }
      if (!dropped) {
        kept.add(f);
      } else {
        changed = true;
        if (!pairs.isEmpty()) {
          kept.add(new HeaderField(f.name(), String.join("; ", pairs)));
        }
      }
    }
    return changed ? Headers.of(kept) : headers;
  }
}
