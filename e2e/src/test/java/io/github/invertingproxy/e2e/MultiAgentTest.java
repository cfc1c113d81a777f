package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BackendRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class MultiAgentTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final ExecutorService clients = Executors.newFixedThreadPool(16);

  @After
  public void stop() throws Exception {
    clients.shutdownNow();
    Processes.killAll();
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** A backend that answers every request with its own name. */
  private RecordingBackend named(String name) throws IOException {
    RecordingBackend b = new RecordingBackend((r, body, out) -> out.write(("HTTP/1.1 200 OK\r\nContent-Length: "
        + name.length() + "\r\n\r\n" + name).getBytes(ISO_8859_1)));
    closeables.add(b);
    return b;
  }

  private static String get(int port, String path) throws IOException {
    try (RawClient c = new RawClient(port)) {
      var response = c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
      return response.head().status() + " " + new String(response.body().readAllBytes(), ISO_8859_1);
    }
  }

  @Test
  public void twoBackendsWithTwoAgentsAreIsolated() throws Exception {
    Stack stack = new Stack();
    closeables.add(0, stack);
    stack.server.registry().add(BackendRecord.builder().id("a").endUser("allUsers").backendUser("x@example.com")
        .pathPrefixes("/a").build());
    stack.server.registry().add(BackendRecord.builder().id("b").endUser("allUsers").backendUser("x@example.com")
        .pathPrefixes("/b").build());
    RecordingBackend backendA = named("A");
    RecordingBackend backendB = named("B");
    stack.agent("a", backendA.hostAndPort());
    stack.agent("b", backendB.hostAndPort());
    for (int i = 0; i < 10; i++) {
      assertEquals("200 A", get(stack.port(), "/a/" + i));
      assertEquals("200 B", get(stack.port(), "/b/" + i));
    }
    for (int i = 0; i < 10; i++) {
      assertTrue(backendA.next().head().target().startsWith("/a/"));
      assertTrue(backendB.next().head().target().startsWith("/b/"));
    }
  }

  @Test
  public void twoAgentsForOneBackendBothServe() throws Exception {
    Stack stack = new Stack();
    closeables.add(0, stack);
    RecordingBackend one = named("one");
    RecordingBackend two = named("two");
    stack.backend("shared", one.hostAndPort());
    stack.agent("shared", two.hostAndPort());
    List<Future<String>> answers = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      int n = i;
      answers.add(clients.submit(() -> get(stack.port(), "/r/" + n)));
    }
    int fromOne = 0;
    int fromTwo = 0;
    for (Future<String> f : answers) {
      String answer = f.get(30, TimeUnit.SECONDS);
      if (answer.equals("200 one")) {
        fromOne++;
      } else if (answer.equals("200 two")) {
        fromTwo++;
      } else {
        throw new AssertionError("unexpected answer " + answer);
      }
    }
    assertEquals(60, fromOne + fromTwo);
    assertTrue("both agents served: " + fromOne + " and " + fromTwo, fromOne > 0 && fromTwo > 0);
  }

  @Test
  public void killingOneAgentLosesNoRequestItHadNotTaken() throws Exception {
    Stack stack = new Stack(io.github.invertingproxy.core.ProxySettings.builder()
        .pendingTimeout(Duration.ofSeconds(20)).responseTimeout(Duration.ofSeconds(30)).build());
    closeables.add(0, stack);
    RecordingBackend survivor = named("survivor");
    RecordingBackend doomed = named("doomed");
    stack.backend("shared", survivor.hostAndPort());
    Path log = tmp.getRoot().toPath().resolve("doomed-agent.log");
    Process doomedAgent = Processes.startAgent("64m", log, stack.url(), "shared", doomed.hostAndPort());
    // Wait until the doomed agent is holding a poll, then kill it without warning.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!java.nio.file.Files.readString(log).contains("shared") && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(1000);
    doomedAgent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    List<Future<String>> answers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int n = i;
      answers.add(clients.submit(() -> get(stack.port(), "/k/" + n)));
    }
    for (Future<String> f : answers) {
      assertEquals("200 survivor", f.get(40, TimeUnit.SECONDS));
    }
  }
}
