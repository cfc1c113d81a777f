package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * A field value that is a comma-separated list (RFC 9110 section 5.6.1), such as {@code Connection},
 * {@code Upgrade} or {@code Sec-WebSocket-Protocol}: elements are trimmed of spaces and tabs, and
 * empty ones are left out. Quoted strings are not looked into; none of the lists read here has them.
 */
public final class FieldList {
  private FieldList() {}

  /** The elements of {@code value}, in order. */
  public static List<String> elements(String value) {
    requireNonNull(value, "value");
    List<String> elements = new ArrayList<>();
    scan(value, (from, to) -> {
      elements.add(value.substring(from, to));
      return false;
    });
    return elements;
  }

  /** Whether {@code value} (possibly null) has an element equal to {@code element}, ignoring case. */
  public static boolean contains(String value, String element) {
    requireNonNull(element, "element");
    return value != null && scan(value, (from, to) -> to - from == element.length()
        && value.regionMatches(true, from, element, 0, element.length()));
  }

  /** Where an element lies in the value: {@code [from, to)}, trimmed and never empty. */
  private interface ElementVisitor {
    /** True to stop the scan. */
    boolean visit(int from, int to);
  }

  /** Visits the elements of {@code value} in order until one visit returns true; true when one did. */
  private static boolean scan(String value, ElementVisitor visitor) {
    int start = 0;
    while (start <= value.length()) {
      int comma = value.indexOf(',', start);
      int end = comma < 0 ? value.length() : comma;
      int from = skipSpaces(value, start, end);
      int to = trimSpaces(value, from, end);
      if (from < to && visitor.visit(from, to)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  /** The first index in [from, to) that is not a space or tab, else {@code to}. */
  private static int skipSpaces(String value, int from, int to) {
    while (from < to && isSpace(value.charAt(from))) {
      from++;
    }
    return from;
  }

  /** The end of [from, to) without its trailing spaces and tabs. */
  private static int trimSpaces(String value, int from, int to) {
    while (to > from && isSpace(value.charAt(to - 1))) {
      to--;
    }
    return to;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }
}
