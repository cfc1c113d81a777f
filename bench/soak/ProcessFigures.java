import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** A process's resident memory and thread count, from {@code /proc/PID/status} (Linux). */
final class ProcessFigures {
  private static final Pattern POOL_WORKER = Pattern.compile("(proxy|inverting-proxy-agent-websocket)-[0-9]+");

  private ProcessFigures() {}

  static long rssKib(long pid) {
    return field(pid, "VmRSS:");
  }

  static long threads(long pid) {
    return field(pid, "Threads:");
  }

  /**
   * Threads other than the idle-capable workers of Jetty's pools (the server's {@code proxy-N}, the
   * agent's {@code inverting-proxy-agent-websocket-N}), which grow on demand and then give back one
   * idle thread a minute (Jetty's default): a leak of threads shows among the others. Read with
   * {@code jcmd PID Thread.print}, as the kernel keeps only 15 characters of a thread's name.
   */
  static long threadsOutsidePools(long pid) {
    try {
      Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          Long.toString(pid), "Thread.print").redirectErrorStream(true).start();
      long others;
      try (BufferedReader out = new BufferedReader(new InputStreamReader(jcmd.getInputStream(), StandardCharsets.UTF_8))) {
        others = out.lines().filter(l -> l.startsWith("\""))
            .map(l -> l.substring(1, Math.max(1, l.indexOf('"', 1))))
            .filter(name -> !POOL_WORKER.matcher(name).matches()).count();
      }
      return jcmd.waitFor(30, TimeUnit.SECONDS) && jcmd.exitValue() == 0 ? others : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** The first number on the line that starts with {@code name}; -1 when the process is gone. */
  private static long field(long pid, String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(name)) {
          return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
