package io.github.invertingproxy.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium, driven over the DevTools protocol (a WebSocket from the JDK's client):
 * opens a page and reads a value from its DOM. A missing {@code chromium} fails the test with a message
 * saying how to install it, rather than skipping it.
 */
final class HeadlessChromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Process process;
  private final Path profile;
  private final Path log;
  private final WebSocket devtools;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
  private final Map<String, List<String>> consoles = new ConcurrentHashMap<>();

  private HeadlessChromium(Process process, Path profile, Path log, WebSocket devtools) {
    this.process = process;
    this.profile = profile;
    this.log = log;
    this.devtools = devtools;
  }

  static String executable() {
    for (String candidate : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
        Path p = Path.of(dir, candidate);
        if (Files.isExecutable(p)) {
          return p.toString();
        }
      }
    }
    throw new AssertionError("headless Chromium is needed for this test but \"chromium\" is not installed:"
        + " run .ci/run, or apt-get install chromium chromium-driver");
  }

  static HeadlessChromium start() throws Exception {
    String exe = executable();
    Path profile = Files.createTempDirectory("chromium-profile");
    Path log = Files.createTempFile("chromium", ".log");
    Process p = new ProcessBuilder(exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<String> lines = List.of();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("chromium exited at start: " + Files.readString(log));
      }
      if (Files.exists(portFile)) {
        lines = Files.readAllLines(portFile);
        if (lines.size() >= 2) {
          break;
        }
      }
      Thread.sleep(50);
    }
    if (lines.size() < 2) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not open its DevTools port within 30 s: " + Files.readString(log));
    }
    URI endpoint = URI.create("ws://127.0.0.1:" + lines.get(0).trim() + lines.get(1).trim());
    HeadlessChromium[] self = new HeadlessChromium[1];
    StringBuilder partial = new StringBuilder();
    WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
        .buildAsync(endpoint, new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              String message = partial.toString();
              partial.setLength(0);
              self[0].received(message);
            }
            webSocket.request(1);
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    self[0] = new HeadlessChromium(p, profile, log, socket);
    return self[0];
  }

  private void received(String message) {
    try {
      JsonNode node = JSON.readTree(message);
      if (node.has("method") && node.has("sessionId")) {
        List<String> console = consoles.get(node.get("sessionId").asText());
        if (console != null) {
          Tab.record(console, node.get("method").asText(), node.path("params"));
        }
      } else if (node.has("id")) {
        CompletableFuture<JsonNode> call = calls.remove(node.get("id").asInt());
        if (call != null) {
          if (node.has("error")) {
            call.completeExceptionally(new IOException("DevTools error: " + node.get("error")));
          } else {
            call.complete(node.get("result"));
          }
        }
      }
    } catch (IOException e) {
      // not ours to handle
    }
  }

  private JsonNode call(String sessionId, String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    ObjectNode message = JSON.createObjectNode();
    message.put("id", id);
    message.put("method", method);
    message.set("params", params == null ? JSON.createObjectNode() : params);
    if (sessionId != null) {
      message.put("sessionId", sessionId);
    }
    CompletableFuture<JsonNode> result = new CompletableFuture<>();
    calls.put(id, result);
    devtools.sendText(JSON.writeValueAsString(message), true).get(10, TimeUnit.SECONDS);
    return result.get(30, TimeUnit.SECONDS);
  }

  /**
   * Opens {@code url} in a new tab with {@code cookies} set for it, and evaluates {@code expression}
   * until it yields a string starting with one of {@code finals}, or {@code timeout} passes.
   *
   * @return the last value the expression had
   */
  String open(String url, Map<String, String> cookies, String expression, List<String> finals, Duration timeout)
      throws Exception {
    return openTab(url, cookies).await(expression, finals, timeout);
  }

  /** Opens {@code url} in a new tab with {@code cookies} set for it. */
  Tab openTab(String url, Map<String, String> cookies) throws Exception {
    return tab(url, cookies);
  }

  /**
   * Opens {@code url} in a new tab with {@code cookies} set for it, for a test that takes several
   * steps in one page; the tab keeps the page's console messages and uncaught exceptions.
   */
  Tab tab(String url, Map<String, String> cookies) throws Exception {
    JsonNode target = call(null, "Target.createTarget", JSON.createObjectNode().put("url", "about:blank"));
    JsonNode attached = call(null, "Target.attachToTarget",
        JSON.createObjectNode().put("targetId", target.get("targetId").asText()).put("flatten", true));
    String session = attached.get("sessionId").asText();
    List<String> console = new CopyOnWriteArrayList<>();
    consoles.put(session, console);
    for (Map.Entry<String, String> c : cookies.entrySet()) {
      call(session, "Network.setCookie", JSON.createObjectNode().put("name", c.getKey()).put("value", c.getValue())
          .put("url", url));
    }
    call(session, "Runtime.enable", null);
    call(session, "Log.enable", null);
    call(session, "Page.navigate", JSON.createObjectNode().put("url", url));
    return new Tab(session, console);
  }

  /** One tab, attached over DevTools. */
  final class Tab {
    private final String session;
    private final List<String> console;

    private Tab(String session, List<String> console) {
      this.session = session;
      this.console = console;
    }

    /** The value of {@code expression} in the page as a string; empty when it has none or the page is loading. */
    String evaluate(String expression) throws Exception {
      JsonNode result;
      try {
        result = call(session, "Runtime.evaluate",
            JSON.createObjectNode().put("expression", expression).put("returnByValue", true));
      } catch (IOException e) {
        return ""; // the page is between two documents
      }
      JsonNode exception = result.path("exceptionDetails");
      if (!exception.isMissingNode()) {
        return "exception: " + exception.path("exception").path("description").asText(exception.path("text").asText());
      }
      JsonNode v = result.path("result").path("value");
      return v.isMissingNode() || v.isNull() ? "" : v.asText();
    }

    /**
     * Evaluates {@code expression} until it yields a string starting with {@code done}.
     *
     * @throws AssertionError when it yields one starting with {@code FAIL}, or {@code timeout} passes,
     *     saying what was awaited and the last value
     */
    String await(String what, String expression, String done, Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      String value = "";
      while (System.nanoTime() < deadline) {
        value = evaluate(expression);
        if (value.startsWith(done)) {
          return value;
        }
        if (value.startsWith("FAIL")) {
          throw new AssertionError(what + ": " + value);
        }
        Thread.sleep(200);
      }
      throw new AssertionError(what + " did not happen within " + timeout.toSeconds() + " s; last: " + value);
    }

    /**
     * Evaluates {@code expression} until it yields a string starting with one of {@code finals}, or
     * {@code timeout} passes; returns the last value it had.
     */
    String await(String expression, List<String> finals, Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      String value = "";
      while (System.nanoTime() < deadline) {
        value = evaluate(expression);
        for (String f : finals) {
          if (value.startsWith(f)) {
            return value;
          }
        }
        Thread.sleep(200);
      }
      return value;
    }

    /** The page's console messages, uncaught exceptions and browser log entries so far, one a line. */
    String console() {
      return String.join("\n", console);
    }

    private static void record(List<String> console, String method, JsonNode params) {
      switch (method) {
        case "Runtime.consoleAPICalled" -> {
          StringBuilder line = new StringBuilder("console." + params.path("type").asText() + ":");
          for (JsonNode arg : params.path("args")) {
            line.append(' ').append(arg.has("value") ? arg.get("value").asText() : arg.path("description").asText());
          }
          console.add(line.toString());
        }
        case "Runtime.exceptionThrown" -> console.add("uncaught: " + params.path("exceptionDetails").path("exception")
            .path("description").asText(params.path("exceptionDetails").path("text").asText()));
        case "Log.entryAdded" -> console.add("log." + params.path("entry").path("level").asText() + ": "
            + params.path("entry").path("text").asText() + " " + params.path("entry").path("url").asText());
        default -> { }
      }
    }
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws Exception {
    try {
      devtools.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway
    }
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    // Chromium's helper processes may still be writing into the profile for a moment after the
    // browser exits, so files can vanish or appear during the walk: try a few times, then give up.
    for (int attempt = 0; attempt < 5 && Files.exists(profile); attempt++) {
      try (Stream<Path> files = Files.walk(profile)) {
        List<Path> all = new ArrayList<>(files.sorted(Comparator.reverseOrder()).toList());
        for (Path f : all) {
          Files.deleteIfExists(f);
        }
      } catch (IOException | UncheckedIOException e) {
        Thread.sleep(100); // a leftover temp folder harms nothing, but try again
      }
    }
  }
}
