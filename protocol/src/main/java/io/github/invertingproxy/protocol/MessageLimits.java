package io.github.invertingproxy.protocol;

/**
 * Bounds on what a message head may hold, so that a peer cannot make us buffer without end.
 *
 * @param maxLineLength the longest request, status or header line, in bytes
 * @param maxHeaderCount the most header (or trailer) fields in one message
 */
public record MessageLimits(int maxLineLength, int maxHeaderCount) {
  /** 16 KiB lines and 100 fields: more than browsers send, less than an attacker would like. */
  public static final MessageLimits DEFAULT = new MessageLimits(16 * 1024, 100);

  public MessageLimits {
    if (maxLineLength < 256) {
      throw new IllegalArgumentException("maxLineLength must be at least 256, was " + maxLineLength);
    }
    if (maxHeaderCount < 1) {
      throw new IllegalArgumentException("maxHeaderCount must be at least 1, was " + maxHeaderCount);
    }
  }
}
