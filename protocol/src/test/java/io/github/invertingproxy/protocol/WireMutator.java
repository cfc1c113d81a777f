package io.github.invertingproxy.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level mutations of a wire message, driven by one seeded {@link Random} so that a case can be
 * replayed: insertions, deletions, flips to bytes that matter to HTTP/1.1 framing (CR, LF, NUL, SP,
 * HTAB, colon, comma, hex digits), changed length fields, truncation and duplicated slices.
 */
final class WireMutator {
  private static final byte[] SPECIAL = " \t\r\n\0:;,0123456789abcdefABCDEF-+\"\u007f\u00ff".getBytes(ISO_8859_1);
  /** A decimal Content-Length value or a hexadecimal chunk-size line. */
  private static final Pattern LENGTH_FIELD =
      Pattern.compile("(?i)(?<=content-length:[ \t]{0,2})[0-9]+|(?<=\r\n|^)[0-9a-f]+(?=\r\n|;)");
  private static final String[] LENGTH_VALUES = {"0", "1", "-1", "+5", " 5", "0x10", "ffffffff",
      "7fffffffffffffff", "18446744073709551616", "99999999999999999999", "00000000000000000000005", "5 5", "5,5", ""};

  /** A mutated message; {@code dataOffset} is where a lone substitution landed, else -1. */
  record Mutant(byte[] wire, String description, int dataOffset) {}

  private WireMutator() {}

  /** One to three mutations of {@code sample}; a lone byte substitution inside body data is marked. */
  static Mutant mutate(WireCorpus.Sample sample, Random random) {
    byte[] wire = sample.wire();
    int count = 1 + random.nextInt(random.nextInt(4) == 0 ? 3 : 1);
    StringBuilder description = new StringBuilder();
    int substituted = -1;
    for (int i = 0; i < count; i++) {
      int kind = random.nextInt(8);
      int at = wire.length == 0 ? 0 : random.nextInt(wire.length + (kind == 0 ? 1 : 0));
      if (wire.length == 0 && kind != 0) {
        kind = 0;
      }
      switch (kind) {
        case 0 -> {
          byte b = pick(random);
          wire = splice(wire, at, 0, new byte[] {b});
          description.append(String.format("insert 0x%02x at %d; ", b & 0xff, at));
        }
        case 1 -> {
          int n = Math.min(wire.length - at, 1 + random.nextInt(3));
          wire = splice(wire, at, n, new byte[0]);
          description.append("delete ").append(n).append(" at ").append(at).append("; ");
        }
        case 2, 3 -> {
          byte b = pick(random);
          wire = wire.clone();
          wire[at] = b;
          description.append(String.format("set 0x%02x at %d; ", b & 0xff, at));
          substituted = count == 1 && inData(sample, at) ? at : -1;
        }
        case 4 -> {
          String[] replaced = new String[1];
          wire = changeLengthField(wire, random, replaced);
          description.append("length field ").append(replaced[0]).append("; ");
        }
        case 5 -> {
          wire = java.util.Arrays.copyOf(wire, at);
          description.append("truncate at ").append(at).append("; ");
        }
        case 6 -> {
          int n = Math.min(wire.length - at, 1 + random.nextInt(24));
          byte[] slice = java.util.Arrays.copyOfRange(wire, at, at + n);
          int to = random.nextInt(wire.length + 1);
          wire = splice(wire, to, 0, slice);
          description.append("duplicate ").append(n).append(" from ").append(at).append(" to ").append(to).append("; ");
        }
        default -> {
          int n = Math.min(wire.length - at, 1 + random.nextInt(4));
          byte[] random8 = new byte[n];
          random.nextBytes(random8);
          wire = splice(wire, at, n, random8);
          description.append("randomise ").append(n).append(" at ").append(at).append("; ");
        }
      }
    }
    return new Mutant(wire, description.toString().trim(), substituted);
  }

  private static boolean inData(WireCorpus.Sample sample, int at) {
    for (int[] region : sample.dataRegions()) {
      if (at >= region[0] && at < region[1]) {
        return true;
      }
    }
    return false;
  }

  private static byte pick(Random random) {
    return random.nextInt(3) == 0 ? (byte) random.nextInt(256) : SPECIAL[random.nextInt(SPECIAL.length)];
  }

  private static byte[] changeLengthField(byte[] wire, Random random, String[] replaced) {
    String text = new String(wire, ISO_8859_1);
    List<int[]> fields = new ArrayList<>();
    Matcher m = LENGTH_FIELD.matcher(text);
    while (m.find()) {
      fields.add(new int[] {m.start(), m.end()});
    }
    if (fields.isEmpty()) {
      replaced[0] = "(none found)";
      return wire;
    }
    int[] field = fields.get(random.nextInt(fields.size()));
    String old = text.substring(field[0], field[1]);
    String value = switch (random.nextInt(3)) {
      case 0 -> LENGTH_VALUES[random.nextInt(LENGTH_VALUES.length)];
      case 1 -> Long.toString(Math.max(0, parse(old) + random.nextInt(7) - 3));
      default -> Long.toHexString(Math.max(0, parse(old) + random.nextInt(7) - 3));
    };
    replaced[0] = old + " -> \"" + value + "\" at " + field[0];
    return splice(wire, field[0], field[1] - field[0], value.getBytes(ISO_8859_1));
  }

  private static long parse(String digits) {
    try {
      return Long.parseLong(digits, 16);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static byte[] splice(byte[] wire, int at, int remove, byte[] insert) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(wire.length + insert.length);
    out.write(wire, 0, at);
    out.write(insert, 0, insert.length);
    out.write(wire, at + remove, wire.length - at - remove);
    return out.toByteArray();
  }
}
