package io.github.invertingproxy.agent.http;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

public class OriginTest {
  @Test
  public void aProxyUrlWithoutAFinalSlashGetsOne() {
    Origin.ProxyBase base = Origin.parseProxyUrl("https://proxy.example.com/prefix");

    assertEquals("https://proxy.example.com/prefix/", base.url());
    assertEquals("/prefix/agent/pending", base.target("agent/pending"));
    assertEquals(new Origin(true, "proxy.example.com", 443, "proxy.example.com"), base.origin());
  }

  @Test
  public void aProxyUrlWithoutAPathGetsTheRoot() {
    assertEquals("/agent/request", Origin.parseProxyUrl("http://127.0.0.1:8080").target("agent/request"));
  }

  @Test
  public void aProxyUrlMustBeHttpOrHttps() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Origin.parseProxyUrl("proxy.example.com"));
    assertEquals("proxy URL \"proxy.example.com\" must start with http:// or https://", e.getMessage());
  }

  @Test
  public void aBackendMayBeGivenAsHostPortOrHttpUrl() {
    assertEquals(new Origin(false, "localhost", 8080, "localhost:8080"), Origin.parseBackend("localhost:8080"));
    assertEquals(new Origin(false, "localhost", 8080, "localhost:8080"),
        Origin.parseBackend("http://localhost:8080/"));
    assertEquals(new Origin(false, "[::1]", 9000, "[::1]:9000"), Origin.parseBackend("[::1]:9000"));
  }

  @Test
  public void aBackendWithoutAPortIsOnPort80() {
    assertEquals(80, Origin.parseBackend("backend.internal").port());
  }

  @Test
  public void aBackendOverHttpsIsRefusedWithTheReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Origin.parseBackend("https://localhost:8443"));
    assertEquals("backend \"https://localhost:8443\" uses https; the agent reaches its backend over plain HTTP,"
        + " give host:port", e.getMessage());
  }

  @Test
  public void aBackendWithAPathIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Origin.parseBackend("localhost:8080/app"));
  }
}
