package io.github.invertingproxy.commandline.logging;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes credentials out of a log line before it is written, at every level: the values of
 * {@code Authorization}, {@code Proxy-Authorization}, {@code Cookie}, {@code Set-Cookie} and
 * {@code X-Inverting-Proxy-VM-ID} (a GCE identity token) in whatever form a library prints a header
 * ({@code Name: value}, {@code Name=value}, {@code header=Name ... valueString=[value]}), any
 * {@code Bearer} or {@code Basic} credential, and whole dumps of raw wire bytes ({@code <<<...>>>}),
 * which may hold a credential in pieces that no header name precedes.
 */
public final class CredentialRedaction {
  public static final String REDACTED = "[redacted]";

  private static final String NAMES = "authorization|proxy-authorization|cookie|set-cookie|x-inverting-proxy-vm-id";
  /** A value ends at a line's end, an escaped line end, or the bracket that closes a printed field. */
  private static final Pattern NAMED_VALUE = Pattern.compile(
      "(?i)(?<![A-Za-z0-9-])((?:" + NAMES + ")\\s*[:=]\\s*)(?:[^\\r\\n\\\\)\\]>]|\\\\(?![rn]))+");
  private static final Pattern PARSED_VALUE = Pattern.compile(
      "(?i)(header=(?:" + NAMES + ")\\b[^\\r\\n]*?valueString=\\[)[^\\]\\r\\n]*");
  private static final Pattern SCHEME_CREDENTIAL = Pattern.compile(
      "(?i)\\b(bearer|basic)\\s+(?!\\[redacted\\])[^\\s,;\"'\\\\)\\]>]+");
  private static final Pattern WIRE_BYTES = Pattern.compile("(?s)<<<.*?>>>");
  /** Words one of which every line to be changed holds; lines without any pass untouched and uncopied. */
  private static final String[] MARKS = {"auth", "cookie", "bearer", "basic", "vm-id", "<<<"};

  private CredentialRedaction() {}

  public static String redact(String line) {
    if (line == null || !mayHoldCredential(line)) {
      return line;
    }
    String s = WIRE_BYTES.matcher(line).replaceAll("<<<[wire bytes not logged]>>>");
    s = replace(NAMED_VALUE, s);
    s = replace(PARSED_VALUE, s);
    return SCHEME_CREDENTIAL.matcher(s).replaceAll("$1 " + Matcher.quoteReplacement(REDACTED));
  }

  private static String replace(Pattern p, String s) {
    return p.matcher(s).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + REDACTED));
  }

  private static boolean mayHoldCredential(String line) {
    String lower = line.toLowerCase(Locale.ROOT);
    for (String mark : MARKS) {
      if (lower.contains(mark)) {
        return true;
      }
    }
    return false;
  }
}
