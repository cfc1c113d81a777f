package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The agent's packages, read from its sources: each role has its package (docs/agent.md), the
 * root only wires them together, and no package reaches back up to one that uses it.
 */
public class AgentPackagesTest {
  private static final String ROOT = "io.github.invertingproxy.agent";
  private static final Pattern IMPORT = Pattern.compile(
      "^import (?:static )?(" + Pattern.quote(ROOT) + "(?:\\.[a-z]\\w*)*)\\.[A-Z]", Pattern.MULTILINE);
  private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);

  /** Package → the agent packages its classes import. */
  private static final Map<String, Set<String>> USES = new TreeMap<>();

  @BeforeClass
  public static void readSources() throws IOException {
    Path sources = Paths.get("src/main/java");
    assertTrue("the agent's sources are at " + sources.toAbsolutePath(), Files.isDirectory(sources));
    try (Stream<Path> files = Files.walk(sources)) {
      files.filter(f -> f.toString().endsWith(".java")).forEach(AgentPackagesTest::read);
    }
  }

  private static void read(Path file) {
    String source;
    try {
      source = Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Matcher pkg = PACKAGE.matcher(source);
    if (!pkg.find()) {
      return; // package-info without a declaration; none exist, but it would import nothing
    }
    Set<String> uses = USES.computeIfAbsent(pkg.group(1), p -> new TreeSet<>());
    Matcher imported = IMPORT.matcher(source);
    while (imported.find()) {
      if (!imported.group(1).equals(pkg.group(1))) {
        uses.add(imported.group(1));
      }
    }
  }

  @Test
  public void eachRoleHasItsOwnPackage() {
    for (String role : List.of("backend", "channel", "credentials", "forward", "html", "http", "metrics", "observe",
        "proxy", "rewrite", "websocket")) {
      assertTrue("package " + role + " is missing: " + USES.keySet(), USES.containsKey(ROOT + "." + role));
    }
  }

  @Test
  public void noPackageImportsTheRootWhichOnlyWiresThemTogether() {
    USES.forEach((pkg, uses) -> assertFalse(pkg + " imports the root package", uses.contains(ROOT)));
  }

  @Test
  public void thePackagesFormNoCycle() {
    List<String> cycle = findCycle();
    assertEquals("a cycle: " + String.join(" -> ", cycle), List.of(), cycle);
  }

  @Test
  public void theBackendCallKnowsNothingOfWhereRequestsComeFromOrResponsesGo() {
    Set<String> backend = USES.get(ROOT + ".backend");
    for (String above : List.of("channel", "proxy", "forward", "rewrite", "websocket")) {
      assertFalse("backend imports " + above + ": " + backend, backend.contains(ROOT + "." + above));
    }
  }

  @Test
  public void theProtocolClientKnowsNothingOfTheChannelExtension() {
    assertFalse(USES.get(ROOT + ".proxy").toString(), USES.get(ROOT + ".proxy").contains(ROOT + ".channel"));
  }

  /** A cycle among the packages, as the list of its packages with the first repeated at the end; empty when none. */
  private static List<String> findCycle() {
    Map<String, Integer> state = new TreeMap<>(); // 1: on the current path, 2: done
    for (String start : USES.keySet()) {
      List<String> path = new ArrayList<>();
      if (visit(start, state, path)) {
        return path;
      }
    }
    return List.of();
  }

  private static boolean visit(String pkg, Map<String, Integer> state, List<String> path) {
    Integer s = state.get(pkg);
    if (s != null && s == 2) {
      return false;
    }
    path.add(pkg);
    if (s != null) {
      path.subList(0, path.indexOf(pkg)).clear();
      return true;
    }
    state.put(pkg, 1);
    for (String next : USES.getOrDefault(pkg, Set.of())) {
      if (visit(next, state, path)) {
        return true;
      }
    }
    state.put(pkg, 2);
    path.remove(path.size() - 1);
    return false;
  }
}
