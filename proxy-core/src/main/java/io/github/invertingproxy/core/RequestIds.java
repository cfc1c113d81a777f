package io.github.invertingproxy.core;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Exchange ids: 256 bits from a secure random source, as 64 hex characters like the original's. */
public final class RequestIds {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private RequestIds() {}

  public static String next() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return HEX.formatHex(bytes);
  }
}
