package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/** The real command line in its own JVM, stopped the way a container runtime stops it. */
public class TerminationTest {
  @Test
  public void sigtermStopsTheAgentWithExitStatus0() throws Exception {
    Path output = Files.createTempFile("agent-output", ".txt");
    try (ScriptedProxy proxy = ScriptedProxy.start(); RawBackend backend = new RawBackend()) {
      String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
      Process agent = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          AgentMain.class.getName(), "--proxy", proxy.url(), "--backend", "b", "--host", backend.hostAndPort())
          .redirectErrorStream(true)
          .redirectOutput(output.toFile())
          .start();
      try {
        proxy.awaitPolls(1, Duration.ofSeconds(20));
        proxy.enqueue("r1", ForwardingAgentTest.bytes("GET /before-stop HTTP/1.1\r\nHost: h\r\n\r\n"));
        proxy.awaitResponse("r1", Duration.ofSeconds(10));

        agent.destroy(); // SIGTERM on Unix

        assertTrue("agent did not stop", agent.waitFor(15, TimeUnit.SECONDS));
        String log = Files.readString(output, StandardCharsets.UTF_8);
        assertEquals(log, 0, agent.exitValue());
        assertTrue(log, log.contains("forwarding agent stopped"));
        assertTrue(log, log.contains("request r1: GET /before-stop -> 200"));
      } finally {
        agent.destroyForcibly();
      }
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
