package io.github.invertingproxy.agent;

import static io.github.invertingproxy.agent.ForwardingAgentTest.bytes;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** --force-http2 against a Jetty server that speaks only HTTP/2 without TLS (prior knowledge). */
public class ForceHttp2Test {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final LinkedBlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
  private Server backend;
  private ScriptedProxy proxy;
  private ForwardingAgent agent;

  /** What the backend saw of one request. */
  private record Seen(String version, String method, String authority, String target, List<String> userAgent,
      List<String> custom, String body) {}

  @Before
  public void startPeers() throws Exception {
    backend = new Server();
    ServerConnector h2c = new ServerConnector(backend, new HTTP2CServerConnectionFactory(new HttpConfiguration()));
    h2c.setHost("127.0.0.1");
    h2c.setPort(0);
    backend.addConnector(h2c);
    backend.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String body = Content.Source.asString(request);
        seen.add(new Seen(request.getConnectionMetaData().getProtocol(), request.getMethod(),
            request.getHttpURI().getAuthority(), request.getHttpURI().getPathQuery(),
            request.getHeaders().getValuesList("User-Agent"), request.getHeaders().getValuesList("X-Custom"), body));
        response.setStatus(201);
        response.getHeaders().put("X-Backend", "h2c");
        response.getHeaders().put("Content-Type", "text/plain");
        response.getHeaders().add("Set-Cookie", "a=1");
        response.getHeaders().add("Set-Cookie", "b=2");
        Content.Sink.write(response, true, "created " + body, callback);
        return true;
      }
    });
    backend.start();
    proxy = ScriptedProxy.start();
  }

  @After
  public void stopAll() throws Exception {
    if (agent != null) {
      agent.close();
    }
    proxy.close();
    backend.stop();
  }

  private void startAgent(String target) {
    agent = ForwardingAgent.builder()
        .proxyUrl(proxy.url())
        .backendId("backend-1")
        .target(target)
        .forceHttp2(true)
        .shutdownGracePeriod(Duration.ofMillis(200))
        .build();
    agent.start();
  }

  private String backendAddress() {
    return "127.0.0.1:" + ((ServerConnector) backend.getConnectors()[0]).getLocalPort();
  }

  @Test
  public void aRequestReachesTheBackendOverHttp2WithTheClientsHostAsAuthority() throws Exception {
    startAgent(backendAddress());
    proxy.enqueue("r1", bytes("POST /items?x=1 HTTP/1.1\r\nHost: public.example.com\r\nX-Custom: one\r\n"
        + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"));

    Seen request = seen.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);

    assertEquals("HTTP/2.0", request.version());
    assertEquals("POST", request.method());
    // Jetty's client names the default port in :authority, which Go's would leave out.
    assertEquals("public.example.com:80", request.authority());
    assertEquals("/items?x=1", request.target());
    assertEquals(List.of("one"), request.custom());
    assertEquals("hello", request.body());
    assertEquals("the agent adds no User-Agent of its own", List.of(), request.userAgent());
  }

  @Test
  public void theHttp2ResponseReachesTheProxyAsHttp11() throws Exception {
    startAgent(backendAddress());
    proxy.enqueue("r1", bytes("POST /items HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertNull(posted.error);
    assertEquals(201, posted.head.status());
    assertEquals("Created", posted.head.reason());
    assertEquals(List.of("h2c"), posted.head.headers().all("X-Backend"));
    assertEquals(List.of("a=1", "b=2"), posted.head.headers().all("Set-Cookie"));
    assertEquals("created abc", posted.bodyText());
  }

  @Test
  public void anUnreachableH2cBackendGetsA502ThatSaysSo() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    startAgent("127.0.0.1:" + closedPort);
    proxy.enqueue("r1", bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals(502, posted.head.status());
    assertTrue(posted.bodyText(), posted.bodyText().contains("backend 127.0.0.1:" + closedPort + " is unreachable"));
  }
}
