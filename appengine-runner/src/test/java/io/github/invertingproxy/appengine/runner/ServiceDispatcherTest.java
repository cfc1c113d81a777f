package io.github.invertingproxy.appengine.runner;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.junit.Test;

/** The main port's routing: by host name first, as App Engine routes, then by dispatch.yaml. */
public class ServiceDispatcherTest {
  private static ServiceDispatcher dispatcher(String dispatchYaml) throws IOException {
    Map<String, Handler> services = new LinkedHashMap<>();
    for (String service : new String[] {"default", "agent", "api"}) {
      services.put(service, new ContextHandler());
    }
    return new ServiceDispatcher(DispatchRules.parse(new ByteArrayInputStream(dispatchYaml.getBytes(UTF_8))),
        services, Map.of());
  }

  @Test
  public void aServiceDotHostReachesThatServiceOnEveryPath() throws IOException {
    ServiceDispatcher d = dispatcher("dispatch: []\n");
    assertEquals("agent", d.serviceFor("agent-dot-my-project.appspot.com", "/agent/pending"));
    assertEquals("agent", d.serviceFor("agent-dot-my-project.europe-west1.r.appspot.com", "/"));
    assertEquals("api", d.serviceFor("api-dot-localhost", "/api/backends"));
    assertEquals("api", d.serviceFor("API-dot-localhost", "/cron/delete"));
  }

  @Test
  public void aVersionDotServiceHostReachesTheService() throws IOException {
    assertEquals("agent", dispatcher("dispatch: []\n").serviceFor("v2-dot-agent-dot-my-project.appspot.com", "/x"));
  }

  @Test
  public void theProxysHostReachesTheDefaultServiceOnEveryPath() throws IOException {
    ServiceDispatcher d = dispatcher("dispatch: []\n");
    for (String path : new String[] {"/", "/api/backends", "/api/contents", "/agent/pending", "/cron/delete"}) {
      assertEquals(path, "default", d.serviceFor("my-project.appspot.com", path));
      assertEquals(path, "default", d.serviceFor("localhost", path));
    }
  }

  @Test
  public void aDotHostThatNamesNoServiceFallsToTheDispatchRules() throws IOException {
    ServiceDispatcher d = dispatcher("dispatch:\n  - url: \"admin.example.com/*\"\n    service: api\n");
    assertEquals("default", d.serviceFor("v2-dot-my-project.appspot.com", "/agent/pending"));
    assertEquals("api", d.serviceFor("admin.example.com", "/api/backends"));
  }
}
