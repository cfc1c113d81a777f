import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code clients} threads sending mixed traffic through the proxy until {@link #stop()}: small and
 * 1 MiB responses, slow streamed ones, and WebSocket echo sessions. Every exchange ends in exactly
 * one outcome counter; each read waits at most {@link #READ_TIMEOUT}, so none can hang unseen.
 */
final class SoakTraffic {
  static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
  /** An exchange that took longer than this counts as unbounded, even if it ended. */
  static final Duration BOUND = Duration.ofSeconds(90);
  private static final int WS_MESSAGES = 5;

  final AtomicLong sent = new AtomicLong();
  /** 2xx with the whole, correct body (101 and every echo for a WebSocket). */
  final AtomicLong ok = new AtomicLong();
  /** 502, 503 and 504: the proxy answered that the backend could not. */
  final AtomicLong[] gateway = {new AtomicLong(), new AtomicLong(), new AtomicLong()};
  /** The connection ended mid-response: an error on read, or fewer bytes than Content-Length said. */
  final AtomicLong aborted = new AtomicLong();
  /** A 2xx that ended cleanly with a wrong body: must stay 0. */
  final AtomicLong truncated = new AtomicLong();
  /** Any other status: must stay 0 (a 404 would mean the backend record was lost). */
  final AtomicLong otherStatus = new AtomicLong();
  /** Connection refused: the server is down (it restarts once). */
  final AtomicLong refused = new AtomicLong();
  /** A read that waited {@link #READ_TIMEOUT}, or an exchange longer than {@link #BOUND}: must stay 0. */
  final AtomicLong unbounded = new AtomicLong();
  final List<String> notes = new ArrayList<>();

  private final String base;
  private final int clients;
  private final long seed;
  private final HttpClient webSockets = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  SoakTraffic(int proxyPort, int clients, long seed) {
    this.base = "127.0.0.1:" + proxyPort;
    this.clients = clients;
    this.seed = seed;
  }

  void start() {
    for (int i = 0; i < clients; i++) {
      Random random = new Random(seed + i);
      Thread t = new Thread(() -> run(random), "soak-client-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Stops sending and waits for the exchanges in flight, which end within their bounds. */
  boolean stop() throws InterruptedException {
    running = false;
    long deadline = System.nanoTime() + BOUND.plusSeconds(30).toNanos();
    for (Thread t : threads) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
    return threads.stream().noneMatch(Thread::isAlive);
  }

  private void run(Random random) {
    while (running) {
      int pick = random.nextInt(100);
      String kind = pick < 55 ? "/small" : pick < 70 ? "/large" : pick < 85 ? "/stream" : "/ws";
      sent.incrementAndGet();
      long started = System.nanoTime();
      try {
        if (kind.equals("/ws")) {
          webSocket(random);
        } else {
          http(kind);
        }
      } catch (Exception e) {
        note("harness error on " + kind + ": " + e);
        aborted.incrementAndGet();
      }
      if (System.nanoTime() - started > BOUND.toNanos()) {
        note(kind + " took " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
        unbounded.incrementAndGet();
      }
    }
  }

  private void http(String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create("http://" + base + path).toURL().openConnection();
    c.setConnectTimeout(10_000);
    c.setReadTimeout((int) READ_TIMEOUT.toMillis());
    int status;
    byte[] body;
    try {
      status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      body = in == null ? new byte[0] : in.readAllBytes();
    } catch (ConnectException e) {
      refused.incrementAndGet();
      pauseWhileRefused();
      return;
    } catch (SocketTimeoutException e) {
      note(path + ": no byte for " + READ_TIMEOUT.toSeconds() + " s");
      unbounded.incrementAndGet();
      return;
    } catch (IOException e) {
      aborted.incrementAndGet();
      return;
    }
    if (status >= 200 && status < 300) {
      if (Arrays.equals(body, SoakBackend.expected(path))) {
        ok.incrementAndGet();
      } else if (c.getContentLengthLong() > body.length) {
        aborted.incrementAndGet();
      } else {
        note(path + ": " + status + " ended cleanly with " + body.length + " bytes, not the "
            + SoakBackend.expected(path).length + " the backend sent");
        truncated.incrementAndGet();
      }
    } else if (status == 502 || status == 503 || status == 504) {
      gateway[status - 502].incrementAndGet();
    } else {
      note(path + ": status " + status);
      otherStatus.incrementAndGet();
    }
  }

  private void webSocket(Random random) throws InterruptedException {
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocket ws;
    try {
      ws = webSockets.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(URI.create("ws://" + base + "/ws"), new Collector(received))
          .get(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof WebSocketHandshakeException h) {
        int status = h.getResponse().statusCode();
        if (status == 502 || status == 503 || status == 504) {
          gateway[status - 502].incrementAndGet();
        } else {
          note("/ws handshake: status " + status);
          otherStatus.incrementAndGet();
        }
      } else if (cause instanceof ConnectException) {
        refused.incrementAndGet();
        pauseWhileRefused();
      } else {
        aborted.incrementAndGet();
      }
      return;
    } catch (TimeoutException e) {
      note("/ws: no handshake answer for " + READ_TIMEOUT.toSeconds() + " s");
      unbounded.incrementAndGet();
      return;
    }
    try {
      for (int i = 0; i < WS_MESSAGES; i++) {
        String message = "echo " + i + " " + Long.toHexString(random.nextLong());
        ws.sendText(message, true).get(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        String back = received.poll(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (back == null) {
          note("/ws: no echo for " + READ_TIMEOUT.toSeconds() + " s");
          unbounded.incrementAndGet();
          ws.abort();
          return;
        }
        if (back.startsWith("\0")) {
          aborted.incrementAndGet();
          return;
        }
        if (!back.equals(message)) {
          note("/ws: sent \"" + message + "\", got \"" + back + "\" back");
          truncated.incrementAndGet();
          ws.abort();
          return;
        }
      }
      ok.incrementAndGet();
      try {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // Every echo came back: how the close went does not change the outcome.
      }
    } catch (ExecutionException | TimeoutException e) {
      aborted.incrementAndGet();
    } finally {
      ws.abort();
    }
  }

  /** A client finding the server down tries again after a moment, as a browser's user would. */
  private static void pauseWhileRefused() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void note(String what) {
    synchronized (notes) {
      if (notes.size() < 50) {
        notes.add(what);
      }
    }
  }

  /** Whole text messages into a queue; a close or an error as a message starting with NUL. */
  private static final class Collector implements WebSocket.Listener {
    private final BlockingQueue<String> received;
    private final StringBuilder partial = new StringBuilder();

    Collector(BlockingQueue<String> received) {
      this.received = received;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        received.add(partial.toString());
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      received.add("\0closed " + statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      received.add("\0error " + error);
    }
  }
}
