package io.github.invertingproxy.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.PendingRequestIds;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.protocol.RequestStartTime;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * The proxy's side of PROTOCOL.md on a real socket, scripted by the test: it lists queued request ids
 * on {@code agent/pending} (holding the poll briefly, as a long poll), serves them on
 * {@code agent/request}, and parses what the agent posts on {@code agent/response} as it streams in.
 */
final class ScriptedProxy implements Closeable {
  /** How long an empty long poll is held; short, so tests run fast. */
  private static final long HOLD_MILLIS = 100;

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "scripted-proxy");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Queued> requests = new ConcurrentHashMap<>();
  private final LinkedBlockingQueue<String> toList = new LinkedBlockingQueue<>();
  private final ConcurrentLinkedQueue<Answer> pendingScript = new ConcurrentLinkedQueue<>();
  private final Map<String, PostedResponse> responses = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> requestFetches = new ConcurrentHashMap<>();
  private final AtomicInteger responsePosts = new AtomicInteger();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final List<Long> pendingPollNanos = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, String> nextAfter = new ConcurrentHashMap<>();
  private final List<String> announcedOnResponses = new CopyOnWriteArrayList<>();
  private volatile int responseStatus = 200;
  private volatile long holdMillis = HOLD_MILLIS;
  private volatile String offered;

  private ScriptedProxy(HttpServer server) {
    this.server = server;
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  static ScriptedProxy start() throws IOException {
    return new ScriptedProxy(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50));
  }

  static ScriptedProxy startTls(SSLContext tls) throws IOException {
    HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    return new ScriptedProxy(server);
  }

  /** The agent-facing base URL, without the final slash (the agent must add it). */
  String url() {
    String scheme = server instanceof HttpsServer ? "https" : "http";
    return scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/base";
  }

  /** Queues a client request and lists its id on the next poll. */
  void enqueue(String id, byte[] serializedRequest) {
    enqueue(new Queued(id, serializedRequest, "alice@example.com", true, 0));
    toList.add(id);
  }

  /** Queues a request with every detail chosen by the test; listing it is left to the test too. */
  void enqueue(Queued request) {
    requests.put(request.id, request);
  }

  void list(String id) {
    toList.add(id);
  }

  /**
   * Hands queued request {@code nextId} over in the answer to the response for {@code afterId}, when
   * that response announces the next-request extension (else {@code nextId} is listed to a poll).
   */
  void handOverAfter(String afterId, String nextId) {
    nextAfter.put(afterId, nextId);
  }

  /** The feature header of every agent/response call, in order (null when there was none). */
  List<String> announcedOnResponses() {
    return new ArrayList<>(announcedOnResponses);
  }

  /** The next poll gets this answer instead of the queued ids. */
  void scriptPending(int status, String body) {
    pendingScript.add(new Answer(status, body));
  }

  /** Holds empty polls this long, as a real proxy holds them about 30 s. */
  void holdPollsFor(Duration hold) {
    this.holdMillis = hold.toMillis();
  }

  /** Answers every poll with {@code X-Inverting-Proxy-Agent-Features: features}, as a proxy offering extensions. */
  void offerOnPolls(String features) {
    this.offered = features;
  }

  void answerResponsesWith(int status) {
    this.responseStatus = status;
  }

  /** Waits for the response posted for {@code id} to be complete. */
  PostedResponse awaitResponse(String id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      PostedResponse r = responses.get(id);
      if (r != null && r.done.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return r;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no complete response for " + id + " within " + timeout);
  }

  /** The response for {@code id} once its head has arrived, its body possibly still streaming. */
  PostedResponse awaitResponseHead(String id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      PostedResponse r = responses.get(id);
      if (r != null && r.headArrived.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return r;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no response head for " + id + " within " + timeout);
  }

  boolean hasResponse(String id) {
    return responses.containsKey(id);
  }

  int requestFetches(String id) {
    AtomicInteger n = requestFetches.get(id);
    return n == null ? 0 : n.get();
  }

  int responsePosts() {
    return responsePosts.get();
  }

  int pendingPolls() {
    return pendingPollNanos.size();
  }

  List<Long> pendingPollNanos() {
    synchronized (pendingPollNanos) {
      return new ArrayList<>(pendingPollNanos);
    }
  }

  List<Call> calls() {
    return new ArrayList<>(calls);
  }

  /** Waits until at least {@code count} polls have arrived. */
  void awaitPolls(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (pendingPolls() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + pendingPolls() + " of " + count + " polls within " + timeout);
      }
      Thread.sleep(5);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      calls.add(new Call(exchange.getRequestMethod(), path,
          exchange.getRequestHeaders().getFirst("Authorization"),
          exchange.getRequestHeaders().getFirst(ProtocolHeaders.BACKEND_ID),
          exchange.getRequestHeaders().getFirst(ProtocolHeaders.VM_ID),
          exchange.getRequestHeaders().getFirst(AgentFeatures.HEADER)));
      switch (exchange.getRequestMethod() + " " + path) {
        case "GET /base/agent/pending" -> pending(exchange);
        case "GET /base/agent/request" -> request(exchange);
        case "POST /base/agent/response" -> response(exchange);
        default -> send(exchange, 404, "no such agent call: " + path);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void pending(HttpExchange exchange) throws IOException, InterruptedException {
    pendingPollNanos.add(System.nanoTime());
    String offer = offered;
    if (offer != null) {
      exchange.getResponseHeaders().add(AgentFeatures.HEADER, offer);
    }
    Answer scripted = pendingScript.poll();
    if (scripted != null) {
      send(exchange, scripted.status, scripted.body);
      return;
    }
    List<String> ids = new ArrayList<>();
    String first = toList.poll(holdMillis, TimeUnit.MILLISECONDS);
    if (first != null) {
      ids.add(first);
      toList.drainTo(ids);
    }
    send(exchange, 200, PendingRequestIds.toJson(ids));
  }

  private void request(HttpExchange exchange) throws IOException {
    String id = exchange.getRequestHeaders().getFirst(ProtocolHeaders.REQUEST_ID);
    Queued queued = id == null ? null : requests.get(id);
    if (queued == null) {
      send(exchange, 404, "unknown request id");
      return;
    }
    int fetch = requestFetches.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
    if (fetch <= queued.failuresFirst) {
      send(exchange, 503, "try again");
      return;
    }
    exchange.getResponseHeaders().add(ProtocolHeaders.REQUEST_ID, id);
    exchange.getResponseHeaders().add(ProtocolHeaders.USER_ID, queued.user);
    if (queued.withStartTime) {
      exchange.getResponseHeaders().add(ProtocolHeaders.REQUEST_START_TIME, RequestStartTime.format(Instant.now()));
    }
    exchange.sendResponseHeaders(200, queued.serialized.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(queued.serialized);
    }
  }

  private void response(HttpExchange exchange) throws IOException {
    responsePosts.incrementAndGet();
    String id = exchange.getRequestHeaders().getFirst(ProtocolHeaders.REQUEST_ID);
    Queued queued = id == null ? null : requests.get(id);
    if (queued == null) {
      send(exchange, 404, "unknown request id");
      return;
    }
    PostedResponse posted = new PostedResponse(exchange.getRequestHeaders().getFirst("Content-Type"));
    responses.put(id, posted);
    InputStream in = exchange.getRequestBody();
    try {
      IncomingMessage<ResponseHead> message = MessageReader.readResponse(in, queued.method(), MessageLimits.DEFAULT);
      posted.head = message.head();
      posted.framing = message.framing().getClass().getSimpleName();
      posted.headArrived.countDown();
      byte[] buffer = new byte[8192];
      int n;
      while ((n = message.body().read(buffer)) >= 0) {
        posted.append(buffer, n);
      }
      posted.trailers = message.trailers();
      posted.complete = true;
    } catch (IOException e) {
      posted.error = e.toString();
      posted.headArrived.countDown();
      posted.done.countDown();
      send(exchange, 400, "unparseable response: " + e.getMessage());
      return;
    }
    posted.done.countDown();
    String announced = exchange.getRequestHeaders().getFirst(AgentFeatures.HEADER);
    announcedOnResponses.add(announced);
    String nextId = nextAfter.remove(id);
    if (nextId != null && !AgentFeatures.lists(announced, AgentFeatures.NEXT_REQUEST)) {
      toList.add(nextId);
    } else if (nextId != null && responseStatus == 200) {
      Queued next = requests.get(nextId);
      exchange.getResponseHeaders().add(ProtocolHeaders.REQUEST_ID, id);
      exchange.getResponseHeaders().add(AgentFeatures.NEXT_REQUEST_ID, nextId);
      exchange.getResponseHeaders().add(ProtocolHeaders.USER_ID, next.user);
      exchange.getResponseHeaders().add(ProtocolHeaders.REQUEST_START_TIME, RequestStartTime.format(Instant.now()));
      exchange.sendResponseHeaders(200, next.serialized.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(next.serialized);
      }
      return;
    }
    send(exchange, responseStatus, "");
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /**
   * A client request waiting at the proxy.
   *
   * @param failuresFirst how many {@code agent/request} calls get a 503 before one succeeds
   */
  record Queued(String id, byte[] serialized, String user, boolean withStartTime, int failuresFirst) {
    String method() {
      String text = new String(serialized, 0, Math.min(serialized.length, 32), StandardCharsets.ISO_8859_1);
      return text.substring(0, text.indexOf(' '));
    }
  }

  record Answer(int status, String body) {}

  /**
   * One call the agent made: method, path, and the headers the tests look at ({@code features} is
   * {@code X-Inverting-Proxy-Agent-Features}, null when absent).
   */
  record Call(String method, String path, String authorization, String backendId, String vmId, String features) {}

  /** What the agent posted for one request, filled in as it streams. */
  static final class PostedResponse {
    final String contentType;
    final CountDownLatch headArrived = new CountDownLatch(1);
    final CountDownLatch done = new CountDownLatch(1);
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    volatile ResponseHead head;
    volatile String framing;
    volatile Headers trailers = Headers.empty();
    volatile boolean complete;
    volatile String error;

    PostedResponse(String contentType) {
      this.contentType = contentType;
    }

    private synchronized void append(byte[] bytes, int n) {
      body.write(bytes, 0, n);
      notifyAll();
    }

    synchronized byte[] body() {
      return body.toByteArray();
    }

    String bodyText() {
      return new String(body(), StandardCharsets.UTF_8);
    }

    /** Waits until the body received so far contains {@code text}. */
    synchronized boolean awaitBodyContaining(String text, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!new String(body.toByteArray(), StandardCharsets.UTF_8).contains(text)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }
}
