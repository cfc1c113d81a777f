package io.github.invertingproxy.appengine.runner;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
  public void theRepositoryFileTakesNoPathFromTheProxysHost() throws IOException {
    DispatchRules rules = repositoryRules();
    assertEquals(List.of(), rules.rules());
    for (String path : List.of("/", "/api/contents", "/api/backends", "/agent/pending", "/cron/delete", "/_ah/login")) {
      assertEquals(path, "default", rules.serviceFor("my-project.appspot.com", path));
    }
  }

  @Test
  public void theCommentedCustomDomainExampleRoutesByHostAlone() throws IOException {
    StringBuilder example = new StringBuilder();
    boolean inExample = false;
    for (String line : Files.readAllLines(Path.of("..", "dispatch.yaml"))) {
      inExample |= line.equals("# dispatch:");
      if (inExample && line.startsWith("# ")) {
        example.append(line.substring(2)).append('\n');
      }
    }
    DispatchRules rules = rules(example.toString());
    assertEquals("agent", rules.serviceFor("agent.example.com", "/agent/pending"));
    assertEquals("api", rules.serviceFor("api.example.com", "/api/backends"));
    assertEquals("default", rules.serviceFor("example.com", "/agent/pending"));
    assertEquals("default", rules.serviceFor("example.com", "/api/backends"));
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
