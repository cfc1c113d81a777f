package io.github.invertingproxy.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds and runs the stdlib-only Go stand-ins for the original proxy and agent (../interop). Everything Go
 * writes (build cache, GOPATH, binaries, logs) stays under target/go-interop. Without a Go toolchain the
 * tests fail, naming the package to install: they are the contract's evidence and must not silently skip.
 */
final class GoPrograms {
  static final Path INTEROP = Path.of("..", "interop").toAbsolutePath().normalize();
  static final Path WORK = Path.of("target", "go-interop").toAbsolutePath();

  private static final Map<String, Path> built = new HashMap<>();
  private static final List<Process> started = new ArrayList<>();

  private GoPrograms() {}

  /** The go command, from PATH or Debian's and the upstream tarball's usual places. */
  static String goCommand() {
    List<Path> candidates = new ArrayList<>();
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        candidates.add(Path.of(dir, "go"));
      }
    }
    candidates.add(Path.of("/usr/lib/go/bin/go"));
    candidates.add(Path.of("/usr/local/go/bin/go"));
    for (Path p : candidates) {
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new AssertionError("the Go toolchain is not installed, and the Go interoperability tests need it to build"
        + " ../interop/goproxy and ../interop/goagent: install the Debian package golang-go"
        + " (sudo apt-get install golang-go; .ci/run does it)");
  }

  /** Builds ../interop/NAME into target/go-interop/bin/NAME once per test JVM. */
  static synchronized Path build(String name) throws Exception {
    Path binary = built.get(name);
    if (binary != null) {
      return binary;
    }
    binary = WORK.resolve("bin").resolve(name);
    Files.createDirectories(binary.getParent());
    Path log = WORK.resolve("build-" + name + ".log");
    ProcessBuilder pb = new ProcessBuilder(goCommand(), "build", "-o", binary.toString(), "./" + name)
        .directory(INTEROP.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("GOCACHE", WORK.resolve("gocache").toString());
    env.put("GOPATH", WORK.resolve("gopath").toString());
    env.put("GOENV", "off");          // no user config file is read or written
    env.put("GOFLAGS", "");
    env.put("GOPROXY", "off");        // stdlib only: never reach for the network
    env.put("GO111MODULE", "on");     // ../interop/go.mod has no requirements
    env.put("GOTOOLCHAIN", "local");
    env.put("CGO_ENABLED", "0");      // no C compiler needed
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("go build ./" + name + " took over 120 s: " + Files.readString(log));
    }
    if (p.exitValue() != 0) {
      throw new AssertionError("go build ./" + name + " failed (exit " + p.exitValue() + "): " + Files.readString(log));
    }
    built.put(name, binary);
    return binary;
  }

  static Path log(String name) throws IOException {
    Files.createDirectories(WORK);
    return WORK.resolve(name + ".log");
  }

  private static Process start(Path log, List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    synchronized (started) {
      started.add(p);
    }
    return p;
  }

  /** Starts goproxy on a free port; returns its URL (ending with /) once it listens. */
  static String startProxy(String... flags) throws Exception {
    Path log = log("goproxy");
    List<String> command = new ArrayList<>(List.of(build("goproxy").toString(), "--port", "0"));
    command.addAll(List.of(flags));
    Process p = start(log, command);
    Pattern listening = Pattern.compile("listening on (http://\\S+/) ");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      Matcher m = listening.matcher(Files.readString(log, StandardCharsets.ISO_8859_1));
      if (m.find()) {
        return m.group(1);
      }
      if (!p.isAlive()) {
        throw new AssertionError("goproxy exited: " + Files.readString(log));
      }
      Thread.sleep(20);
    }
    throw new AssertionError("goproxy did not listen within 20 s: " + Files.readString(log));
  }

  /** Starts goagent for backend {@code id} of {@code proxyUrl}, forwarding to {@code hostPort}. */
  static Process startAgent(String proxyUrl, String id, String hostPort) throws Exception {
    return start(log("goagent-" + id), List.of(build("goagent").toString(), "--proxy", proxyUrl, "--backend", id,
        "--host", hostPort));
  }

  static void killAll() throws InterruptedException {
    synchronized (started) {
      for (Process p : started) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      started.clear();
    }
  }
}
