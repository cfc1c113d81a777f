package io.github.invertingproxy.appengine.runner;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Test;

public class DispatchRulesTest {
  private static DispatchRules repositoryRules() throws IOException {
    try (InputStream in = Files.newInputStream(Path.of("..", "dispatch.yaml"))) {
      return DispatchRules.parse(in);
    }
  }

  private static DispatchRules rules(String yaml) throws IOException {
    return DispatchRules.parse(new ByteArrayInputStream(yaml.getBytes(UTF_8)));
  }

  @Test
  public void theAgentCallsGoToTheAgentService() throws IOException {
    DispatchRules rules = repositoryRules();
    assertEquals("agent", rules.serviceFor("my-project.appspot.com", "/agent/pending"));
    assertEquals("agent", rules.serviceFor("127.0.0.1", "/agent/response"));
  }

  @Test
  public void theAdminApiAndTheCronGoToTheApiService() throws IOException {
    DispatchRules rules = repositoryRules();
    assertEquals("api", rules.serviceFor("my-project.appspot.com", "/api/backends"));
    assertEquals("api", rules.serviceFor("my-project.appspot.com", "/api/backends/x"));
    assertEquals("api", rules.serviceFor("my-project.appspot.com", "/cron/delete"));
  }

  @Test
  public void everythingElseGoesToTheDefaultService() throws IOException {
    DispatchRules rules = repositoryRules();
    assertEquals("default", rules.serviceFor("my-project.appspot.com", "/"));
    assertEquals("default", rules.serviceFor("my-project.appspot.com", "/agentx/pending"));
    assertEquals("default", rules.serviceFor("my-project.appspot.com", "/notebooks/api/x"));
    assertEquals("default", rules.serviceFor("my-project.appspot.com", "/_ah/login"));
  }

  @Test
  public void theFirstMatchingRuleWins() throws IOException {
    DispatchRules rules = rules("dispatch:\n  - url: \"*/a/*\"\n    service: one\n  - url: \"*/a/b/*\"\n    service: two\n");
    assertEquals("one", rules.serviceFor("h", "/a/b/c"));
  }

  @Test
  public void hostPatternsAndExactPathsAreHonoured() throws IOException {
    DispatchRules rules = rules("dispatch:\n  - url: \"*.example.com/x\"\n    service: one\n"
        + "  - url: \"api.test/*\"\n    service: two\n");
    assertEquals("one", rules.serviceFor("www.example.com", "/x"));
    assertEquals("default", rules.serviceFor("www.example.com", "/x/y"));
    assertEquals("two", rules.serviceFor("API.test", "/anything"));
    assertEquals("default", rules.serviceFor("other.test", "/anything"));
  }

  @Test
  public void aRuleWithoutAServiceIsRefusedByNumber() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> rules("dispatch:\n  - url: \"*/a/*\"\n"));
    assertEquals("dispatch.yaml entry 1 needs a url and a service", e.getMessage());
  }
}
