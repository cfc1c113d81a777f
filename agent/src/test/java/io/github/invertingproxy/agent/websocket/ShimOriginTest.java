package io.github.invertingproxy.agent.websocket;

import static org.junit.Assert.assertEquals;

import io.github.invertingproxy.agent.http.Origin;
import org.junit.Test;

/** The page's Origin as the shim passes it to a backend that it dials with the backend's own Host. */
public class ShimOriginTest {
  @Test
  public void anOriginNamingThePagesHostNamesTheBackendInstead() {
    assertEquals("http://127.0.0.1:8888",
        ShimEndpoints.backendOrigin("http://127.0.0.1:43837", "127.0.0.1:43837", "127.0.0.1:8888"));
    assertEquals("http://localhost:8888",
        ShimEndpoints.backendOrigin("https://Proxy.Example.com", "proxy.example.com", "localhost:8888"));
  }

  @Test
  public void aForeignOriginGoesAsItCameForTheBackendToRefuse() {
    assertEquals("https://evil.example", ShimEndpoints.backendOrigin("https://evil.example", "proxy.example.com",
        "localhost:8888"));
    assertEquals("https://proxy.example.com:444", ShimEndpoints.backendOrigin("https://proxy.example.com:444",
        "proxy.example.com", "localhost:8888"));
    assertEquals("null", ShimEndpoints.backendOrigin("null", "proxy.example.com", "localhost:8888"));
  }
}
