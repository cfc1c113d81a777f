package io.github.invertingproxy.protocol;

import java.util.Locale;

/** Header names of the agent protocol (PROTOCOL.md, "Headers"). */
public final class ProtocolHeaders {
  /** Every protocol header starts with this; clients may never send one through the proxy. */
  public static final String PREFIX = "X-Inverting-Proxy-";

  public static final String BACKEND_ID = "X-Inverting-Proxy-Backend-ID";
  public static final String REQUEST_ID = "X-Inverting-Proxy-Request-ID";
  public static final String USER_ID = "X-Inverting-Proxy-User-ID";
  public static final String REQUEST_START_TIME = "X-Inverting-Proxy-Request-Start-Time";
  public static final String VM_ID = "X-Inverting-Proxy-VM-ID";

  private ProtocolHeaders() {}

  /** True for any {@code X-Inverting-Proxy-*} header, whatever its case. */
  public static boolean isProtocolHeader(String name) {
    return name.length() >= PREFIX.length()
        && name.substring(0, PREFIX.length()).toLowerCase(Locale.ROOT).equals(PREFIX.toLowerCase(Locale.ROOT));
  }
}
