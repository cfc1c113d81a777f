package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.admin.AdminApiServlet;
import io.github.invertingproxy.core.memory.InMemoryBackendRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import org.eclipse.jetty.ee8.servlet.ServletContextHandler;
import org.eclipse.jetty.ee8.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The admin API servlet on a Jetty of its own: a record that is not exactly one clean JSON object is 400. */
public class AdminApiStrictnessTest {
  private static final String FIELDS = "\"endUser\":\"allUsers\",\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"/\"]";

  private final InMemoryBackendRegistry registry = InMemoryBackendRegistry.transientRegistry(Duration.ofMinutes(5),
      Clock.systemUTC());
  private final HttpClient http = HttpClient.newHttpClient();
  private Server jetty;
  private ServerConnector connector;

  @Before
  public void start() throws Exception {
    jetty = new Server();
    connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(new AdminApiServlet(registry, new OpenIdentity())), "/api/backends/*");
    jetty.setHandler(context);
    jetty.start();
  }

  @After
  public void stop() throws Exception {
    jetty.stop();
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/api/backends"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void refused(String body, String reason) throws Exception {
    HttpResponse<String> r = post(body);
    assertEquals(r.body(), 400, r.statusCode());
    assertTrue(r.body(), r.body().contains(reason));
    assertTrue("nothing was stored", registry.list().isEmpty());
  }

  @Test
  public void dataAfterTheRecordIs400() throws Exception {
    refused("{\"id\":\"a\"," + FIELDS + "}{\"id\":\"b\"," + FIELDS + "}", "unexpected data after the record");
  }

  @Test
  public void aDuplicateKeyIs400NamingIt() throws Exception {
    refused("{\"id\":\"a\",\"id\":\"b\"," + FIELDS + "}", "field id: field \"id\" appears twice");
  }

  @Test
  public void anUnknownFieldIs400NamingIt() throws Exception {
    refused("{\"id\":\"a\",\"owner\":\"me\"," + FIELDS + "}", "unknown field \"owner\"");
  }

  @Test
  public void aBackendUserThatIsNoEmailIs400() throws Exception {
    refused("{\"id\":\"a\",\"endUser\":\"allUsers\",\"backendUser\":\"agent\",\"pathPrefixes\":[\"/\"]}",
        "field backendUser: backendUser \"agent\" is not an email");
  }

  @Test
  public void aCleanRecordIsStored() throws Exception {
    assertEquals(200, post("{\"id\":\"a\"," + FIELDS + "}\n").statusCode());
    assertEquals(1, registry.list().size());
  }
}
