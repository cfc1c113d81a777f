import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * Helpers for bench/run.sh, run with {@code java bench/Probe.java MODE ...} (no build step).
 *
 * <ul>
 *   <li>{@code sink PORT}: an upload sink on 127.0.0.1:PORT. Any request: reads and discards the whole
 *       body (Content-Length or chunked), then answers 200 with the byte count. nginx cannot serve as
 *       an upload target without answering before the body is read, hence this.
 *   <li>{@code polls PORT BACKEND N PID SETTLE_MS}: opens N connections to 127.0.0.1:PORT, each holding an
 *       {@code agent/pending} long poll for BACKEND, waits SETTLE_MS, then checks that every poll is
 *       still held (no answer, no close) and reports the server process's VmRSS and thread count
 *       before and while they are held. Prints one line of key=value pairs.
 * </ul>
 */
public final class Probe {
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      usage();
    }
    switch (args[0]) {
      case "sink" -> sink(Integer.parseInt(args[1]));
      case "polls" -> polls(Integer.parseInt(args[1]), args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]),
          Long.parseLong(args[5]));
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println("usage: java Probe.java sink PORT | polls PORT BACKEND N PID SETTLE_MS");
    System.exit(2);
  }

  private static void sink(int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/", Probe::drain);
    server.start();
    System.out.println("sink listening on 127.0.0.1:" + port);
  }

  private static void drain(HttpExchange exchange) throws IOException {
    long total = 0;
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = exchange.getRequestBody()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        total += n;
      }
    }
    byte[] answer = ("received " + total + " bytes\n").getBytes(StandardCharsets.US_ASCII);
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, answer.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(answer);
    }
  }

  private static void polls(int port, String backend, int count, long pid, long settleMillis) throws Exception {
    long[] before = status(pid);
    List<Socket> sockets = new ArrayList<>(count);
    byte[] call = ("GET /agent/pending HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
        + "User-Agent: bench-idle-poll\r\nX-Inverting-Proxy-Backend-ID: " + backend + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    long deadline = System.nanoTime() + 60_000_000_000L;
    try {
      for (int i = 0; i < count && System.nanoTime() < deadline; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.getOutputStream().write(call);
        s.getOutputStream().flush();
        sockets.add(s);
      }
      Thread.sleep(settleMillis);
      long[] during = status(pid);
      int held = 0;
      for (Socket s : sockets) {
        s.setSoTimeout(1);
        try {
          int b = s.getInputStream().read();
          if (b < 0) {
            continue; // closed
          }
        } catch (SocketTimeoutException stillWaiting) {
          held++;
        }
      }
      System.out.println("opened=" + sockets.size() + " held=" + held
          + " rss_before_kib=" + before[0] + " threads_before=" + before[1]
          + " rss_held_kib=" + during[0] + " threads_held=" + during[1]);
    } finally {
      for (Socket s : sockets) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }
  }

  /** VmRSS in KiB and Threads of a process, from /proc/PID/status. */
  private static long[] status(long pid) throws IOException {
    long rss = -1;
    long threads = -1;
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
      } else if (line.startsWith("Threads:")) {
        threads = Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return new long[] {rss, threads};
  }
}
