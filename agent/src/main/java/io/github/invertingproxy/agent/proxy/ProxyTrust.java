package io.github.invertingproxy.agent.proxy;

import io.github.invertingproxy.protocol.TrustedAuthorities;
import java.io.IOException;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

/**
 * The certificate authorities the agent accepts an https proxy's certificate from: the system's
 * (the JVM's trust store), plus a private authority given with {@code --ca-cert}, as a proxy with a
 * company's own certificates needs ({@link TrustedAuthorities}).
 */
public final class ProxyTrust {
  private ProxyTrust() {}

  /**
   * A context trusting the system's authorities and every certificate in a PEM file.
   *
   * @throws IOException with a one-line message naming the file and what is wrong with it
   */
  public static SSLContext systemAnd(Path pemFile) throws IOException {
    return TrustedAuthorities.systemAnd(pemFile);
  }

  /** A failure's message, with a hint when the proxy's certificate was the reason. */
  public static String describe(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLHandshakeException && String.valueOf(t.getMessage()).contains("PKIX")) {
        return "the proxy's certificate is not signed by an authority this agent trusts"
            + " (a private authority's certificate goes in --ca-cert): " + t.getMessage();
      }
    }
    return e.getMessage();
  }
}
