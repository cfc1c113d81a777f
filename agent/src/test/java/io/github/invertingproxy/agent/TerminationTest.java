package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The real command line in its own JVM, stopped the way a container runtime stops it. */
public class TerminationTest {
  private ScriptedProxy proxy;
  private RawBackend backend;
  private Path output;
  private Process agent;

  @Before
  public void startPeers() throws IOException {
    proxy = ScriptedProxy.start();
    backend = new RawBackend();
    output = Files.createTempFile("agent-output", ".txt");
  }

  @After
  public void stopAll() throws IOException {
    if (agent != null) {
      agent.destroyForcibly();
    }
    proxy.close();
    backend.close();
    Files.deleteIfExists(output);
  }

  private void startAgent(String... extraArgs) throws IOException {
    startAgentOn(System.getProperty("java.class.path"), extraArgs);
  }

  private void startAgentOn(String classPath, String... extraArgs) throws IOException {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> command = new ArrayList<>(List.of(java, "-cp", classPath,
        AgentMain.class.getName(), "--proxy", proxy.url(), "--backend", "b", "--host", backend.hostAndPort(),
        "--credentials", "none"));
    command.addAll(List.of(extraArgs));
    agent = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
  }

  private String log() throws IOException {
    return Files.readString(output, StandardCharsets.UTF_8);
  }

  private void awaitLog(String text) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!log().contains(text)) {
      assertTrue("no \"" + text + "\" in:\n" + log(), System.nanoTime() < deadline);
      Thread.sleep(10);
    }
  }

  @Test
  public void sigtermStopsTheAgentEvenWhenItsJarsWereReplacedWhileItRan() throws Exception {
    // A package upgrade may replace the jars under a running agent; classes first needed while
    // stopping then fail to load. Stopping must finish all the same, or the process never exits.
    Path copy = Files.createTempFile("jetty-util", ".jar");
    StringBuilder classPath = new StringBuilder();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (Path.of(entry).getFileName().toString().startsWith("jetty-util-")) {
        Files.copy(Path.of(entry), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        entry = copy.toString();
      }
      classPath.append(classPath.length() == 0 ? "" : File.pathSeparator).append(entry);
    }
    try {
      startAgentOn(classPath.toString());
      proxy.awaitPolls(1, Duration.ofSeconds(20));
      Files.write(copy, new byte[] {0});

      agent.destroy(); // SIGTERM on Unix

      assertTrue("agent did not stop:\n" + log(), agent.waitFor(15, TimeUnit.SECONDS));
      assertTrue(log(), log().contains("forwarding agent stopped"));
    } finally {
      Files.deleteIfExists(copy);
    }
  }

  @Test
  public void sigtermStopsTheAgentWithExitStatus0() throws Exception {
    startAgent();
    proxy.awaitPolls(1, Duration.ofSeconds(20));
    proxy.enqueue("r1", ForwardingAgentTest.bytes("GET /before-stop HTTP/1.1\r\nHost: h\r\n\r\n"));
    proxy.awaitResponse("r1", Duration.ofSeconds(10));
    // The line follows the proxy's answer to the post; with no grace period a SIGTERM in between
    // would cut it off, which is not what this test is about.
    awaitLog("request r1: GET /before-stop -> 200");

    agent.destroy(); // SIGTERM on Unix

    assertTrue("agent did not stop", agent.waitFor(15, TimeUnit.SECONDS));
    assertEquals(log(), 0, agent.exitValue());
    assertTrue(log(), log().contains("forwarding agent stopped"));
  }

  @Test
  public void sigtermLetsARequestInFlightFinishAndTakesNoNewOne() throws Exception {
    CountDownLatch finish = new CountDownLatch(1);
    backend.respondWith((request, out) -> {
      out.write(ForwardingAgentTest.bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst"));
      out.flush();
      finish.await(10, TimeUnit.SECONDS);
      out.write(ForwardingAgentTest.bytes(" half"));
      return true;
    });
    startAgent("--graceful-shutdown-timeout", "10s");
    proxy.awaitPolls(1, Duration.ofSeconds(20));
    proxy.enqueue("slow", ForwardingAgentTest.bytes("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"));
    ScriptedProxy.PostedResponse slow = proxy.awaitResponseHead("slow", Duration.ofSeconds(10));

    agent.destroy();
    awaitLog("stopping: no new requests; 1 in flight may finish within 10s");
    proxy.enqueue("late", ForwardingAgentTest.bytes("GET /late HTTP/1.1\r\nHost: h\r\n\r\n"));
    Thread.sleep(300); // a poll would have taken "late" by now
    finish.countDown();

    assertTrue("agent did not stop", agent.waitFor(15, TimeUnit.SECONDS));
    assertEquals(log(), 0, agent.exitValue());
    assertTrue(slow.done.await(5, TimeUnit.SECONDS));
    assertEquals("first half", slow.bodyText());
    assertEquals(0, proxy.requestFetches("late"));
  }

  @Test
  public void tooManyFailedHealthChecksEndTheAgentWithExitStatus1() throws Exception {
    backend.respondWith((request, out) -> {
      String status = proxy.pendingPolls() > 0 ? "500 Internal Server Error" : "200 OK";
      out.write(ForwardingAgentTest.bytes("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\n\r\n"));
      return true;
    });
    startAgent("--health-check-path", "healthz", "--health-check-interval-seconds", "1",
        "--health-check-unhealthy-threshold", "1");

    assertTrue("agent did not stop", agent.waitFor(15, TimeUnit.SECONDS));
    assertEquals(log(), 1, agent.exitValue());
    assertTrue(log(), log().contains("health check 1 of 1 failed: http://" + backend.hostAndPort()
        + "/healthz answered 500"));
    assertTrue(proxy.pendingPolls() > 0);
  }
}
