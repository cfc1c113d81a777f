package io.github.invertingproxy.agent.html;

/**
 * Where a snippet goes in the first bytes of an HTML page: right after the opening {@code <head>}
 * tag; without one, after whatever precedes the page's content (byte order mark, {@code <?xml?>},
 * doctype, comments, the {@code <html>} tag). Never before the doctype: a page whose doctype is not
 * first renders in quirks mode. Works on the bytes of any ASCII-compatible charset.
 */
final class InsertionPoint {
  /** Returned while the bytes so far cannot tell and more may come. */
  static final int NEED_MORE = -1;

  private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  private InsertionPoint() {}

  /**
   * @param page the page's first {@code length} bytes
   * @param complete true when no more bytes will be looked at (end of the body, or the scan limit)
   * @return the offset to insert at, or {@link #NEED_MORE} (only when not {@code complete})
   */
  static int find(byte[] page, int length, boolean complete) {
    int fallback = 0; // the latest offset known to precede the page's content
    int i = 0;
    if (startsWith(page, length, 0, UTF8_BOM)) {
      i = UTF8_BOM.length;
      fallback = i;
    } else if (length < UTF8_BOM.length && isPrefixOf(page, length, UTF8_BOM) && length > 0) {
      return complete ? 0 : NEED_MORE;
    }
    while (true) {
      while (i < length && isSpace(page[i])) {
        i++;
      }
      if (i >= length || (page[i] == '<' && i + 1 >= length)) {
        return complete ? fallback : NEED_MORE;
      }
      if (page[i] != '<') {
        return fallback; // text: the content has begun
      }
      byte next = page[i + 1];
      int end;
      if (next == '!' || next == '?') {
        if (length - i < 4 && !complete) {
          return NEED_MORE; // "<!--" cannot be told from "<!DOCTYPE" yet
        }
        boolean comment = startsWith(page, length, i, new byte[] {'<', '!', '-', '-'});
        end = comment ? indexOf(page, length, i + 4, new byte[] {'-', '-', '>'}) : indexOf(page, length, i + 2,
            new byte[] {'>'});
        if (end < 0) {
          return complete ? fallback : NEED_MORE;
        }
        i = end + (comment ? 3 : 1);
        fallback = i;
        continue;
      }
      if (!isLetter(next)) {
        return fallback; // a "<" that opens no tag is text
      }
      int nameEnd = i + 1;
      while (nameEnd < length && isNameChar(page[nameEnd])) {
        nameEnd++;
      }
      if (nameEnd >= length) {
        return complete ? fallback : NEED_MORE;
      }
      end = tagEnd(page, length, nameEnd);
      if (end < 0) {
        return complete ? fallback : NEED_MORE;
      }
      if (nameIs(page, i + 1, nameEnd, "head")) {
        return end + 1;
      }
      if (nameIs(page, i + 1, nameEnd, "html")) {
        i = end + 1;
        fallback = i;
        continue;
      }
      return fallback; // any other tag (<body>, <title>, <header>...) means the page has no <head> tag
    }
  }

  /** The index of the {@code >} that closes a tag, skipping quoted attribute values; -1 if not yet seen. */
  private static int tagEnd(byte[] page, int length, int from) {
    byte quote = 0;
    for (int i = from; i < length; i++) {
      byte b = page[i];
      if (quote != 0) {
        if (b == quote) {
          quote = 0;
        }
      } else if (b == '"' || b == '\'') {
        quote = b;
      } else if (b == '>') {
        return i;
      }
    }
    return -1;
  }

  private static boolean nameIs(byte[] page, int from, int to, String name) {
    if (to - from != name.length()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.toLowerCase((char) page[from + i]) != name.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] page, int length, int from, byte[] needle) {
    for (int i = from; i + needle.length <= length; i++) {
      if (startsWith(page, length, i, needle)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean startsWith(byte[] page, int length, int at, byte[] prefix) {
    if (length - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (page[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isPrefixOf(byte[] page, int length, byte[] whole) {
    for (int i = 0; i < length; i++) {
      if (page[i] != whole[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f';
  }

  private static boolean isLetter(byte b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
  }

  private static boolean isNameChar(byte b) {
    return isLetter(b) || (b >= '0' && b <= '9') || b == '-' || b == ':' || b == '_' || b == '.';
  }
}
