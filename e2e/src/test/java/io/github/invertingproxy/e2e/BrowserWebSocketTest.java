package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;

import io.github.invertingproxy.agent.ForwardingAgent;
import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.websocket.WebSocketOptions;
import io.github.invertingproxy.websocket.RelayLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * A page served by the backend opens {@code new WebSocket(...)} in headless Chromium, sends and
 * receives text and binary, and writes the outcome into its DOM, which the test reads: natively
 * through the stand-alone server, and through the App Engine flavour's local runner with the shim.
 */
public class BrowserWebSocketTest {
  static final String PAGE = """
      <!doctype html><html><head><title>WebSocket check</title></head><body><div id="result">running</div>
      <script>
      (async function () {
        const out = document.getElementById('result');
        try {
          const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/echo',
              ['chat.v1']);
          ws.binaryType = 'arraybuffer';
          const inbox = [];
          let wake = null;
          ws.onmessage = e => { inbox.push(e.data); if (wake) { const w = wake; wake = null; w(); } };
          const next = () => new Promise((resolve, reject) => {
            if (inbox.length) { resolve(inbox.shift()); return; }
            wake = () => resolve(inbox.shift());
            setTimeout(() => reject(new Error('no message within 20 s')), 20000);
          });
          await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('error before open')); });
          ws.send('hello from the browser');
          const text = await next();
          if (text !== 'hello from the browser') throw new Error('text came back as ' + text);
          const bytes = new Uint8Array([0, 1, 2, 250, 255, 128]);
          ws.send(bytes.buffer);
          const back = new Uint8Array(await next());
          if (back.length !== 6 || back.some((v, i) => v !== bytes[i])) throw new Error('binary came back as ' + Array.from(back));
          ws.send(new Blob([new Uint8Array([9, 8, 7])]));
          const blob = new Uint8Array(await next());
          if (blob.join(',') !== '9,8,7') throw new Error('blob came back as ' + Array.from(blob));
          const closed = new Promise(resolve => { ws.onclose = resolve; });
          ws.close(1000, 'done');
          const c = await closed;
          out.textContent = 'PASS protocol=' + ws.protocol + ' shim=' + (window.__invertingProxyWebSocketShim ? 'yes' : 'no')
              + ' close=' + c.code;
        } catch (e) {
          out.textContent = 'FAIL ' + e.message;
        }
      })();
      </script></body></html>
      """;
  private static final String RESULT = "document.getElementById('result') ? document.getElementById('result').textContent : ''";

  private WebSocketBackend backend;

  @Before
  public void start() throws Exception {
    HeadlessChromium.executable();
    backend = new WebSocketBackend();
    backend.page(PAGE);
  }

  @After
  public void stop() throws Exception {
    backend.close();
    Processes.killAll();
  }

  @Test
  public void aPageTalksOverANativeWebSocketThroughTheStandaloneServer() throws Exception {
    try (WebSocketStack stack = new WebSocketStack(RelayLimits.DEFAULT);
        HeadlessChromium chromium = HeadlessChromium.start()) {
      stack.agent("ws", backend.hostAndPort(), WebSocketOptions.defaults());
      String result = chromium.open("http://127.0.0.1:" + stack.port() + "/page.html", Map.of(), RESULT,
          List.of("PASS", "FAIL"), Duration.ofSeconds(60));
      assertEquals("PASS protocol=chat.v1 shim=no close=1000", result);
    }
  }

  @Test
  public void aPageTalksOverTheShimThroughTheAppEngineFlavour() throws Exception {
    Path runnerJar = Path.of("..", "appengine-runner", "target", "inverting-proxy-appengine-runner.jar");
    if (!Files.exists(runnerJar)) {
      throw new AssertionError(runnerJar + " is missing; build the appengine-runner module first");
    }
    String token = "browser-test-agent-token-0123456789";
    Path log = Files.createTempFile("appengine-runner", ".log");
    Process runner = Processes.java("512m", runnerJar, log, "--port", "0", "--demo-agent-token", token);
    String url = awaitListening(runner, log, "App Engine flavour");
    // The agent calls the agent service, on its own port (the JDK does not resolve agent-dot-localhost).
    String agentUrl = awaitListening(runner, log, "Service agent");
    Path tokenFile = Files.createTempFile("token", ".txt");
    Files.writeString(tokenFile, token);
    ForwardingAgent agent = ForwardingAgent.builder().proxyUrl(agentUrl).backendId("demo").target(backend.hostAndPort())
        .credentials(ProxyCredentials.tokenFile(tokenFile)).proxyTimeout(Duration.ofSeconds(60))
        .webSockets(WebSocketOptions.defaults().withShim("websocket-shim")).shutdownGracePeriod(Duration.ZERO).build();
    agent.start();
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      awaitPage(url + "page.html");
      String result = chromium.open(url + "page.html", Map.of("dev_appserver_login", "you@example.com:false:1"),
          RESULT, List.of("PASS", "FAIL"), Duration.ofSeconds(90));
      if (!result.startsWith("PASS")) {
        System.out.println("page: " + chromium.open(url + "page.html", Map.of(), "location.href + ' | ' + document.documentElement.outerHTML.slice(0, 3000)", List.of("http"), Duration.ofSeconds(5)));
        System.out.println("runner log: " + Files.readString(log));
      }
      assertEquals("PASS protocol=chat.v1 shim=yes close=1000", result);
    } finally {
      agent.close();
      runner.destroy();
      runner.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Waits until the page comes through (the agent has polled and its backend is live). */
  private static void awaitPage(String url) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int status = 0;
    while (System.nanoTime() < deadline) {
      status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
          .header("Cookie", "dev_appserver_login=you@example.com:false:1").timeout(Duration.ofSeconds(30)).build(),
          java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status == 200) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the page did not come through the App Engine flavour within 60 s (last status "
        + status + ")");
  }

  private static String awaitListening(Process runner, Path log, String what) throws Exception {
    Pattern listening = Pattern.compile(Pattern.quote(what) + " listening on (http://\\S+/)");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!runner.isAlive()) {
        throw new AssertionError("the App Engine runner exited: " + Files.readString(log));
      }
      Matcher m = listening.matcher(Files.readString(log));
      if (m.find()) {
        return m.group(1);
      }
      Thread.sleep(100);
    }
    runner.destroyForcibly();
    throw new AssertionError("the App Engine runner did not start within 60 s: " + Files.readString(log));
  }
}
