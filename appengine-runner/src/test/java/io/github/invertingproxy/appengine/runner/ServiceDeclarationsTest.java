package io.github.invertingproxy.appengine.runner;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.junit.Test;

/** The repository's App Engine descriptors agree with each other (read from the source files). */
public class ServiceDeclarationsTest {
  private static ServiceDescriptor declared(String module) throws IOException {
    Path webInf = Path.of("..", module, "src/main/webapp/WEB-INF");
    try (InputStream appengine = Files.newInputStream(webInf.resolve("appengine-web.xml"));
        InputStream web = Files.newInputStream(webInf.resolve("web.xml"))) {
      return ServiceDescriptor.read(module, appengine, web);
    }
  }

  private static DispatchRules dispatch() throws IOException {
    try (InputStream in = Files.newInputStream(Path.of("..", "dispatch.yaml"))) {
      return DispatchRules.parse(in);
    }
  }

  @Test
  public void eachWarDeclaresTheServiceThatItsHostNameReaches() throws IOException {
    Map<String, Handler> services = new LinkedHashMap<>();
    for (String module : AppEngineRunner.MODULES) {
      services.put(declared(module).service(), new ContextHandler());
    }
    ServiceDispatcher dispatcher = new ServiceDispatcher(dispatch(), services, Map.of());
    assertEquals(dispatcher.serviceFor("p.appspot.com", "/agent/pending"), declared("proxy-service").service());
    assertEquals(dispatcher.serviceFor("p.appspot.com", "/api/backends"), declared("proxy-service").service());
    assertEquals(dispatcher.serviceFor("agent-dot-p.appspot.com", "/agent/pending"), declared("agent-service").service());
    assertEquals(dispatcher.serviceFor("api-dot-p.appspot.com", "/api/backends"), declared("admin-api-service").service());
  }

  @Test
  public void everyServiceThatDispatchYamlNamesIsDeclaredByAWar() throws IOException {
    Set<String> declared = new LinkedHashSet<>();
    for (String module : AppEngineRunner.MODULES) {
      declared.add(declared(module).service());
    }
    assertEquals(Set.of("default", "agent", "api"), declared);
    for (DispatchRules.Rule r : dispatch().rules()) {
      assertTrue(r.url() + " goes to undeclared service " + r.service(), declared.contains(r.service()));
    }
  }

  @Test
  public void theRunnerBundlesTheSameDescriptorsAsTheWars() throws IOException {
    for (String module : AppEngineRunner.MODULES) {
      ServiceDescriptor bundled = ServiceDescriptor.bundled(module);
      ServiceDescriptor source = declared(module);
      assertEquals(source.service(), bundled.service());
      assertEquals(source.listenerClasses(), bundled.listenerClasses());
    }
  }

  @Test
  public void everyWarRunsJava21WithTheBundledApisOnServlet4() throws IOException {
    for (String module : AppEngineRunner.MODULES) {
      String xml = Files.readString(Path.of("..", module, "src/main/webapp/WEB-INF/appengine-web.xml"));
      assertTrue(module, xml.contains("<runtime>java21</runtime>"));
      assertTrue(module, xml.contains("<app-engine-apis>true</app-engine-apis>"));
      assertTrue(module, xml.contains("<property name=\"appengine.use.EE8\" value=\"true\"/>"));
    }
  }

  @Test
  public void eachWarHasExactlyItsBootstrapAndItExists() throws Exception {
    assertEquals(List.of("io.github.invertingproxy.appengine.UserProxyBootstrap"),
        declared("proxy-service").listenerClasses());
    assertEquals(List.of("io.github.invertingproxy.appengine.AgentServiceBootstrap"),
        declared("agent-service").listenerClasses());
    assertEquals(List.of("io.github.invertingproxy.appengine.AdminApiBootstrap"),
        declared("admin-api-service").listenerClasses());
    for (String module : AppEngineRunner.MODULES) {
      for (String listener : declared(module).listenerClasses()) {
        assertTrue(listener, javax.servlet.ServletContextListener.class.isAssignableFrom(Class.forName(listener)));
      }
    }
  }

  @Test
  public void theCronTargetsTheServiceThatServesItsPath() throws IOException {
    String cron = Files.readString(Path.of("..", "cron.yaml"));
    assertTrue(cron.contains("url: /cron/delete"));
    assertTrue(cron.contains("schedule: every 5 minutes"));
    assertTrue(cron.contains("target: " + declared("admin-api-service").service() + "\n"));
  }
}
