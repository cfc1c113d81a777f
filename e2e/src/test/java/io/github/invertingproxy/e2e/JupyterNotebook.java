package io.github.invertingproxy.e2e;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's Jupyter Notebook on a free loopback port, at base URL {@code /}, with no token or
 * password, in a notebook directory and Jupyter configuration of its own. Its log goes to a file
 * for diagnosis. A missing {@code jupyter-notebook} fails the test, saying how to install it.
 */
final class JupyterNotebook implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private final Process process;
  private final Path home;
  private final Path log;
  private final int port;

  private JupyterNotebook(Process process, Path home, Path log, int port) {
    this.process = process;
    this.home = home;
    this.log = log;
    this.port = port;
  }

  static String executable() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "jupyter-notebook");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new AssertionError("Jupyter Notebook is needed for this test but \"jupyter-notebook\" is not installed:"
        + " run .ci/run, or apt-get install jupyter-notebook python3-ipykernel");
  }

  /** Starts Jupyter, logging to {@code log}, and returns once its REST API answers. */
  static JupyterNotebook start(Path log) throws Exception {
    String exe = executable();
    Path home = Files.createTempDirectory("jupyter");
    Path notebooks = Files.createDirectories(home.resolve("notebooks"));
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    ProcessBuilder builder = new ProcessBuilder(exe, "--no-browser", "--allow-root", "--ip=127.0.0.1",
        "--port=" + port, "--NotebookApp.port_retries=0", "--NotebookApp.token=", "--NotebookApp.password=",
        "--NotebookApp.base_url=/", "--notebook-dir=" + notebooks)
        .redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    // Nothing from the user's own Jupyter or IPython set-up, and nothing left behind in it.
    env.put("JUPYTER_CONFIG_DIR", home.resolve("config").toString());
    env.put("JUPYTER_RUNTIME_DIR", home.resolve("runtime").toString());
    env.put("JUPYTER_DATA_DIR", home.resolve("data").toString());
    env.put("IPYTHONDIR", home.resolve("ipython").toString());
    JupyterNotebook jupyter = new JupyterNotebook(builder.start(), home, log, port);
    try {
      jupyter.awaitReady();
    } catch (Throwable e) {
      jupyter.close();
      throw e;
    }
    return jupyter;
  }

  private void awaitReady() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest api = HttpRequest.newBuilder(URI.create("http://" + hostAndPort() + "/api"))
        .timeout(Duration.ofSeconds(10)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("jupyter-notebook exited at start (status " + process.exitValue() + "): " + log());
      }
      try {
        if (http.send(api, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("jupyter-notebook did not answer on " + hostAndPort() + " within "
        + START_TIMEOUT.toSeconds() + " s: " + log());
  }

  String hostAndPort() {
    return "127.0.0.1:" + port;
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Stops Jupyter and its kernels (the whole process tree), then removes its directory. */
  @Override
  public void close() throws Exception {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    tree.add(process.toHandle());
    tree.forEach(ProcessHandle::destroy);
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        p.destroyForcibly();
      }
    }
    process.waitFor(10, TimeUnit.SECONDS);
    try (Stream<Path> files = Files.walk(home)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException | UncheckedIOException e) {
      // a leftover temporary directory harms nothing
    }
  }
}
