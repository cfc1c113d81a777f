package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

/** One header line, name and value exactly as they travel. */
public record HeaderField(String name, String value) {
  public HeaderField {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("header name is empty");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == ':') {
        throw new IllegalArgumentException("header name " + name + " has an illegal character at " + i);
      }
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        throw new IllegalArgumentException("value of header " + name + " contains CR, LF or NUL");
      }
    }
  }

  public boolean is(String otherName) {
    return name.equalsIgnoreCase(otherName);
  }

  @Override
  public String toString() {
    return name + ": " + value;
  }
}
