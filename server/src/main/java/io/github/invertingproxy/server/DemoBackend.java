package io.github.invertingproxy.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * The small private backend that {@code make run} puts behind the proxy: a page showing the request
 * it received, an echo endpoint, and a server-sent-events stream, so that a visitor can see a request
 * travel through unchanged and a response stream back live.
 */
public final class DemoBackend {
  private final HttpServer http;

  private DemoBackend(HttpServer http) {
    this.http = http;
  }

  public static DemoBackend start(int port) throws IOException {
    // The JDK server writes head and body separately; with Nagle on, each response waits ~40 ms for an ACK.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    http.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "demo-backend");
      t.setDaemon(true);
      return t;
    }));
    http.createContext("/", DemoBackend::page);
    http.createContext("/echo", DemoBackend::echo);
    http.createContext("/events", DemoBackend::events);
    http.start();
    return new DemoBackend(http);
  }

  public int port() {
    return http.getAddress().getPort();
  }

  public void stop() {
    http.stop(0);
  }

  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8081;
    DemoBackend backend = start(port);
    System.out.println("demo backend listening on http://127.0.0.1:" + backend.port() + "/");
  }

  private static void page(HttpExchange ex) throws IOException {
    StringBuilder headers = new StringBuilder();
    for (Map.Entry<String, List<String>> e : new TreeMap<>(ex.getRequestHeaders()).entrySet()) {
      for (String v : e.getValue()) {
        headers.append(escape(e.getKey())).append(": ").append(escape(v)).append('\n');
      }
    }
    String html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Demo backend</title></head>\n"
        + "<body style=\"font-family: sans-serif; max-width: 50em; margin: 2em auto\">\n"
        + "<h1>Hello from the private backend</h1>\n"
        + "<p>This page was served by a backend that accepts no inbound traffic. The proxy queued your request, "
        + "the agent fetched it, replayed it here, and streamed this page back.</p>\n"
        + "<h2>The request as the backend received it</h2>\n<pre id=\"request\">" + escape(ex.getRequestMethod()) + " "
        + escape(ex.getRequestURI().toString()) + "\n" + headers + "</pre>\n"
        + "<h2>A live stream</h2>\n<pre id=\"events\"></pre>\n"
        + "<script>const log = document.getElementById('events');\n"
        + "new EventSource('events').onmessage = e => { log.textContent += e.data + '\\n'; };</script>\n"
        + "</body></html>\n";
    send(ex, 200, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
  }

  private static void echo(HttpExchange ex) throws IOException {
    byte[] body = ex.getRequestBody().readAllBytes();
    String type = ex.getRequestHeaders().getFirst("Content-Type");
    send(ex, 200, type == null ? "application/octet-stream" : type, body);
  }

  private static void events(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.sendResponseHeaders(200, 0);
    try (OutputStream out = ex.getResponseBody()) {
      for (int i = 1; i <= 10; i++) {
        out.write(("data: tick " + i + " at " + Instant.now() + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        Thread.sleep(1000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
