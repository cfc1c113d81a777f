package io.github.invertingproxy.commandline;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.net.InetSocketAddress;
import org.junit.Test;

public class ListenAddressTest {
  @Test
  public void aHostAndPortIsTakenAsGiven() {
    InetSocketAddress a = ListenAddress.parse("--metrics-bind", "127.0.0.1:9090", "127.0.0.1:9090");
    assertEquals("127.0.0.1", a.getHostString());
    assertEquals(9090, a.getPort());
  }

  @Test
  public void anIpv6HostLosesItsBrackets() {
    InetSocketAddress a = ListenAddress.parse("--metrics-bind", "[::1]:0", "127.0.0.1:9090");
    assertEquals("::1", a.getHostString());
    assertEquals(0, a.getPort());
  }

  @Test
  public void somethingElseIsRefusedNamingTheFlagAndAnExample() {
    for (String bad : new String[] {"9090", "localhost", "host:port", "127.0.0.1:9090/metrics", "http://x:1"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ListenAddress.parse("--metrics-bind", bad, "127.0.0.1:9090"));
      assertEquals("--metrics-bind must be HOST:PORT (e.g. 127.0.0.1:9090), not \"" + bad + "\"", e.getMessage());
    }
  }
}
