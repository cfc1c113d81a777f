package io.github.invertingproxy.appengine.runner;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Test;

/**
 * Deployed, every service takes HTTPS only (a transport guarantee over every path in its web.xml);
 * the local runner serves plain HTTP and says so.
 */
public class HttpsOnlyServicesTest {
  private static ServiceDescriptor declared(String module) throws IOException {
    Path webInf = Path.of("..", module, "src/main/webapp/WEB-INF");
    try (InputStream appengine = Files.newInputStream(webInf.resolve("appengine-web.xml"));
        InputStream web = Files.newInputStream(webInf.resolve("web.xml"))) {
      return ServiceDescriptor.read(module, appengine, web);
    }
  }

  private static ServiceDescriptor withWebXml(String body) throws IOException {
    String appengine = "<appengine-web-app xmlns=\"http://appengine.google.com/ns/1.0\"><service>x</service>"
        + "</appengine-web-app>";
    String web = "<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"4.0\">" + body + "</web-app>";
    return ServiceDescriptor.read("x", new ByteArrayInputStream(appengine.getBytes(StandardCharsets.UTF_8)),
        new ByteArrayInputStream(web.getBytes(StandardCharsets.UTF_8)));
  }

  private static String constraint(String pattern, String guarantee) {
    return "<security-constraint><web-resource-collection><web-resource-name>r</web-resource-name>"
        + "<url-pattern>" + pattern + "</url-pattern></web-resource-collection><user-data-constraint>"
        + "<transport-guarantee>" + guarantee + "</transport-guarantee></user-data-constraint></security-constraint>";
  }

  @Test
  public void everyWarDemandsHttpsForEveryPath() throws IOException {
    for (String module : AppEngineRunner.MODULES) {
      assertEquals(module, List.of("/*"), declared(module).httpsOnlyPatterns());
    }
  }

  @Test
  public void theRunnerBundlesTheHttpsOnlyDescriptors() throws IOException {
    for (String module : AppEngineRunner.MODULES) {
      assertEquals(module, List.of("/*"), ServiceDescriptor.bundled(module).httpsOnlyPatterns());
    }
  }

  @Test
  public void onlyAConfidentialOrIntegralGuaranteeMakesAPatternHttpsOnly() throws IOException {
    assertEquals(List.of(), withWebXml("").httpsOnlyPatterns());
    assertEquals(List.of(), withWebXml(constraint("/*", "NONE")).httpsOnlyPatterns());
    assertEquals(List.of("/a/*", "/b/*"),
        withWebXml(constraint("/a/*", "CONFIDENTIAL") + constraint("/b/*", "INTEGRAL")).httpsOnlyPatterns());
  }

  @Test
  public void theLocalRunnerServesPlainHttpAndSaysThatDeployedServicesTakeHttpsOnly() throws Exception {
    try (AppEngineRunner runner = AppEngineRunner.builder().port(0).build().start()) {
      assertEquals("plain HTTP here; deployed, services [default, agent, api] take HTTPS only,"
          + " which this runner does not enforce", runner.transportNote());
      HttpResponse<String> cron = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          runner.serviceUri("api").resolve("cron/delete")).header("X-Appengine-Cron", "true").GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, cron.statusCode());
      assertTrue(runner.uri().toString().startsWith("http://"));
    }
  }
}
