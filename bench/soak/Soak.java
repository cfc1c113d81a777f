import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@code make soak}: mixed traffic from 64 clients through the stand-alone server and our agent to
 * {@link SoakBackend}, while the agent is killed with SIGKILL and restarted every 20 to 40 s and the
 * server is restarted once (its records survive in {@code --data-dir}). Prints the figures every
 * minute and the pass criteria at the end; exits 1 when one is missed. Loopback only; it stops by
 * itself after {@code SOAK_MINUTES} and stops every process it started.
 *
 * <p>Usage: {@code java -cp SERVER_JAR:CLASSES Soak SERVER_JAR AGENT_JAR WORK_DIR} with the environment
 * variables {@code SOAK_MINUTES} (10), {@code SOAK_CLIENTS} (64), {@code SOAK_SEED} (from the clock),
 * {@code SOAK_JVM_FLAGS}.
 */
public final class Soak {
  private static final String BACKEND_ID = "soak";
  private static final long SAMPLE_MILLIS = 10_000;
  private static final int THREAD_SLACK = 4;
  private static final java.util.logging.Logger JETTY_LOG = java.util.logging.Logger.getLogger("org.eclipse.jetty");

  private final String serverJar;
  private final String agentJar;
  private final Path work;
  private final List<String> jvmFlags;
  private final int proxyPort;
  private final int backendPort;
  private Process server;
  private Process agent;
  private int serverStarts;
  private int agentStarts;

  private Soak(String serverJar, String agentJar, Path work, List<String> jvmFlags, int proxyPort, int backendPort) {
    this.serverJar = serverJar;
    this.agentJar = agentJar;
    this.work = work;
    this.jvmFlags = jvmFlags;
    this.proxyPort = proxyPort;
    this.backendPort = backendPort;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: Soak SERVER_JAR AGENT_JAR WORK_DIR");
      System.exit(2);
    }
    double minutes = Double.parseDouble(env("SOAK_MINUTES", "10"));
    int clients = Integer.parseInt(env("SOAK_CLIENTS", "64"));
    long seed = Long.parseLong(env("SOAK_SEED", Long.toString(System.currentTimeMillis())));
    List<String> jvmFlags = List.of(env("SOAK_JVM_FLAGS", "-Xms256m -Xmx256m -XX:+AlwaysPreTouch -XX:+UseParallelGC")
        .trim().split("\\s+"));
    Path work = Path.of(args[2]);
    JETTY_LOG.setLevel(java.util.logging.Level.WARNING);   // the backend's start-up lines are noise here
    try (SoakBackend backend = new SoakBackend()) {
      Soak soak = new Soak(args[0], args[1], work, jvmFlags, freePort(), backend.port());
      Runtime.getRuntime().addShutdownHook(new Thread(soak::stopAll));
      boolean passed;
      try {
        passed = soak.run(Duration.ofMillis((long) (minutes * 60_000)), clients, seed);
      } finally {
        soak.stopAll();
      }
      System.exit(passed ? 0 : 1);
    }
  }

  private boolean run(Duration length, int clients, long seed) throws Exception {
    System.out.printf("soak: %s, %d clients, seed %d, server on 127.0.0.1:%d, backend on 127.0.0.1:%d, work dir %s%n",
        length, clients, seed, proxyPort, backendPort, work);
    System.out.println("soak: JVM flags of server and agent: " + String.join(" ", jvmFlags));
    Path dataDir = work.resolve("data");
    registerBackend(dataDir);
    startServer(dataDir);
    startAgent();
    awaitAnswer("/small", Duration.ofSeconds(60));
    Thread.sleep(2000);
    long serverThreadsIdle = ProcessFigures.threadsOutsidePools(server.pid());
    long agentThreadsIdle = ProcessFigures.threadsOutsidePools(agent.pid());
    System.out.printf("soak: idle baseline: server %d threads (%d outside Jetty's pools), agent %d (%d outside)%n",
        ProcessFigures.threads(server.pid()), serverThreadsIdle, ProcessFigures.threads(agent.pid()), agentThreadsIdle);

    Random chaos = new Random(seed);
    SoakTraffic traffic = new SoakTraffic(proxyPort, clients, seed);
    SoakReport report = new SoakReport(traffic);
    long start = System.nanoTime();
    long end = start + length.toNanos();
    long serverRestartAt = start + length.toNanos() * 2 / 5;
    long nextAgentKill = start + TimeUnit.SECONDS.toNanos(20 + chaos.nextInt(21));
    long nextSample = start + TimeUnit.MILLISECONDS.toNanos(SAMPLE_MILLIS);
    long serverStartedAt = start;
    int agentKills = 0;
    traffic.start();
    report.header();
    while (System.nanoTime() < end) {
      Thread.sleep(200);
      long now = System.nanoTime();
      if (now >= nextAgentKill) {
        report.agentEnded(agent.pid(), now - start);
        agent.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        agentKills++;
        startAgent();
        nextAgentKill = now + TimeUnit.SECONDS.toNanos(20 + chaos.nextInt(21));
      }
      if (serverRestartAt > 0 && now >= serverRestartAt) {
        System.out.println("soak: restarting the server (SIGTERM, then the same flags and --data-dir)");
        server.destroy();
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
          server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        startServer(dataDir);
        serverStartedAt = System.nanoTime();
        report.serverRestarted(serverStartedAt - start);
        serverRestartAt = -1;
      }
      if (now >= nextSample) {
        now = System.nanoTime();   // a restart above may have taken seconds
        report.sample(now - start, server.pid(), agent.pid(), now - serverStartedAt);
        nextSample += TimeUnit.MILLISECONDS.toNanos(SAMPLE_MILLIS);
      }
    }
    System.out.println("soak: load stopped; waiting for the exchanges in flight");
    boolean allEnded = traffic.stop();
    report.printFinal(System.nanoTime() - start, server.pid(), agent.pid());
    report.agentEnded(agent.pid(), System.nanoTime() - start);
    long[] threads = awaitThreads(serverThreadsIdle, agentThreadsIdle, Duration.ofSeconds(75));
    System.out.printf("soak: %d agent kills (SIGKILL), %d server restart(s)%n", agentKills, serverStarts - 1);
    return report.verdict(allEnded, serverThreadsIdle, agentThreadsIdle, threads, THREAD_SLACK);
  }

  /** The one place that registers the backend: a record file seeded before the server first starts. */
  private static void registerBackend(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Files.writeString(dataDir.resolve("backends.json"), "[{\"id\":\"" + BACKEND_ID + "\",\"endUser\":\"allUsers\","
        + "\"backendUser\":\"soak-agent@example.com\",\"pathPrefixes\":[\"/\"]}]\n", StandardCharsets.UTF_8);
  }

  private void startServer(Path dataDir) throws Exception {
    serverStarts++;
    server = launch("server-" + serverStarts, serverJar, "--port", Integer.toString(proxyPort),
        "--data-dir", dataDir.toString(), "--response-timeout", "20s");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!listening(proxyPort)) {
      if (System.nanoTime() > deadline || !server.isAlive()) {
        throw new IllegalStateException("the server did not listen on " + proxyPort + " within 60 s; see "
            + work.resolve("server-" + serverStarts + ".log"));
      }
      Thread.sleep(100);
    }
  }

  private void startAgent() throws IOException {
    agentStarts++;
    agent = launch("agent-" + agentStarts, agentJar, "--proxy", "http://127.0.0.1:" + proxyPort + "/",
        "--backend", BACKEND_ID, "--host", "127.0.0.1:" + backendPort, "--credentials", "none");
  }

  private Process launch(String name, String jar, String... flags) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.add("-jar");
    command.add(jar);
    command.addAll(List.of(flags));
    return new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(work.resolve(name + ".log").toFile()).start();
  }

  private void awaitAnswer(String path, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    int status = 0;
    while (System.nanoTime() < deadline) {
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + proxyPort + path).toURL().openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(10_000);
        status = c.getResponseCode();
        c.getInputStream().readAllBytes();
        if (status == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("no 200 for " + path + " through the proxy within " + within.toSeconds()
        + " s (last status " + status + "); see the logs in " + work);
  }

  /**
   * Waits until both processes are back to their idle counts (plus slack) of threads outside Jetty's
   * pools; returns the last counts.
   */
  private long[] awaitThreads(long serverIdle, long agentIdle, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    long s = ProcessFigures.threadsOutsidePools(server.pid());
    long a = ProcessFigures.threadsOutsidePools(agent.pid());
    while ((s > serverIdle + THREAD_SLACK || a > agentIdle + THREAD_SLACK) && System.nanoTime() < deadline) {
      Thread.sleep(3000);
      s = ProcessFigures.threadsOutsidePools(server.pid());
      a = ProcessFigures.threadsOutsidePools(agent.pid());
    }
    System.out.printf("soak: after the load: server %d threads (%d outside Jetty's pools), agent %d (%d outside)%n",
        ProcessFigures.threads(server.pid()), s, ProcessFigures.threads(agent.pid()), a);
    return new long[] {s, a};
  }

  private void stopAll() {
    for (Process p : new Process[] {agent, server}) {
      if (p != null && p.isAlive()) {
        p.destroy();
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
