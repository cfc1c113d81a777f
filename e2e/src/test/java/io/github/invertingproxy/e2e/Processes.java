package io.github.invertingproxy.e2e;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The built jars run as separate JVMs, the way users run them. */
final class Processes {
  static final Path SERVER_JAR = Path.of("..", "server", "target", "inverting-proxy-server.jar");
  static final Path AGENT_JAR = Path.of("..", "agent", "target", "inverting-proxy-agent.jar");

  private Processes() {}

  static Process java(String heap, Path jar, Path log, String... args) throws IOException {
    if (!Files.exists(jar)) {
      throw new IllegalStateException(jar + " is missing; the reactor builds it before this module's tests");
    }
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError",
        "-jar", jar.toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** Starts the server on a free port and returns its base URL once it listens. */
  static String startServer(String heap, Path log, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--port", "0", "--admin-port", "0"));
    args.addAll(List.of(extra));
    Process p = java(heap, SERVER_JAR, log, args.toArray(String[]::new));
    Pattern listening = Pattern.compile("listening on (http://\\S+/) ");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("server exited: " + Files.readString(log));
      }
      Matcher m = listening.matcher(Files.readString(log));
      if (m.find()) {
        started.add(p);
        return m.group(1);
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new IllegalStateException("server did not start within 30 s: " + Files.readString(log));
  }

  /** The admin API's base URL of the server that {@link #startServer} started with this log. */
  static String adminUrl(Path log) throws IOException {
    Matcher m = Pattern.compile("admin API: (http://\\S+/)api/backends").matcher(Files.readString(log));
    if (!m.find()) {
      throw new IllegalStateException("the server's log names no admin API: " + Files.readString(log));
    }
    return m.group(1);
  }

  static Process startAgent(String heap, Path log, String proxy, String backendId, String target) throws IOException {
    Process p = java(heap, AGENT_JAR, log, "--proxy", proxy, "--backend", backendId, "--host", target,
        "--credentials", "none");
    started.add(p);
    return p;
  }

  /** Starts the agent jar with exactly {@code args}. */
  static Process startAgent(String heap, Path log, String... args) throws IOException {
    Process p = java(heap, AGENT_JAR, log, args);
    started.add(p);
    return p;
  }

  /** Whether every process these helpers started still runs. */
  static boolean allAlive() {
    return started.stream().allMatch(Process::isAlive);
  }

  private static final List<Process> started = new ArrayList<>();

  /** Kills every process these helpers started. */
  static void killAll() throws InterruptedException {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    started.clear();
  }
}
