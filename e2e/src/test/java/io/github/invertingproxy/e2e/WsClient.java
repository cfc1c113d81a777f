package io.github.invertingproxy.e2e;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.UpgradeListener;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;

/**
 * A WebSocket client for the tests, on Jetty's frame-level client: sends frames exactly as told and
 * records every frame it gets. It answers pings only when {@link #answerPings} is on (the default).
 */
final class WsClient implements FrameHandler, AutoCloseable {
  record Got(byte opcode, boolean fin, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  private static WebSocketCoreClient shared;
  final BlockingQueue<Got> frames = new LinkedBlockingQueue<>();
  final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
  volatile boolean answerPings = true;
  volatile HttpFields handshakeAnswer;
  private CoreSession session;

  /** The shared client (started once per JVM; its threads are daemons). */
  static synchronized WebSocketCoreClient client() throws Exception {
    if (shared == null) {
      HttpClient http = new HttpClient();
      org.eclipse.jetty.util.thread.QueuedThreadPool pool = new org.eclipse.jetty.util.thread.QueuedThreadPool(64, 2);
      pool.setName("test-websocket-client");
      pool.setDaemon(true);
      http.setExecutor(pool);
      shared = new WebSocketCoreClient(http, new org.eclipse.jetty.websocket.core.WebSocketComponents(
          null, null, null, null, null, pool));
      shared.start();
    }
    return shared;
  }

  static WsClient connect(String url, List<String> subprotocols, Map<String, String> headers) throws Exception {
    WsClient c = new WsClient();
    CoreClientUpgradeRequest request = CoreClientUpgradeRequest.from(client(), URI.create(url), c);
    if (!subprotocols.isEmpty()) {
      request.setSubProtocols(subprotocols);
    }
    request.headers(h -> headers.forEach(h::put));
    request.addListener(new UpgradeListener() {
      @Override
      public void onHandshakeResponse(Request req, Response response) {
        c.handshakeAnswer = HttpFields.build(response.getHeaders()).asImmutable();
      }
    });
    client().connect(request).get(30, TimeUnit.SECONDS);
    return c;
  }

  static WsClient connect(String url) throws Exception {
    return connect(url, List.of(), Map.of());
  }

  CoreSession session() {
    return session;
  }

  @Override
  public void onOpen(CoreSession coreSession, Callback callback) {
    session = coreSession;
    session.setAutoFragment(false);
    session.setMaxFrameSize(64L * 1024 * 1024);
    session.setIdleTimeout(java.time.Duration.ofMinutes(5));
    callback.succeeded();
    session.demand();
  }

  @Override
  public void onFrame(Frame frame, Callback callback) {
    byte[] payload = BufferUtil.toArray(frame.getPayload());
    if (frame.getOpCode() == OpCode.CLOSE) {
      callback.succeeded();
      return;
    }
    if (frame.getOpCode() == OpCode.PING && answerPings) {
      session.sendFrame(new Frame(OpCode.PONG, ByteBuffer.wrap(payload)), Callback.NOOP, false);
    }
    if (frame.getOpCode() != OpCode.PING || answerPings) {
      frames.add(new Got(frame.getOpCode(), frame.isFin(), payload));
    }
    callback.succeeded();
    session.demand();
  }

  @Override
  public void onError(Throwable cause, Callback callback) {
    callback.succeeded();
  }

  @Override
  public void onClosed(CloseStatus closeStatus, Callback callback) {
    closed.complete(closeStatus);
    callback.succeeded();
  }

  /** Sends one frame and waits until it is written. */
  void send(byte opcode, boolean fin, byte[] payload) throws Exception {
    FutureCallback done = new FutureCallback();
    session.sendFrame(new Frame(opcode, fin, ByteBuffer.wrap(payload)), done, false);
    done.get(60, TimeUnit.SECONDS);
  }

  void sendText(String text) throws Exception {
    send(OpCode.TEXT, true, text.getBytes(StandardCharsets.UTF_8));
  }

  void sendBinary(byte[] data) throws Exception {
    send(OpCode.BINARY, true, data);
  }

  /** The next frame other than a keepalive ping, within 30 s. */
  Got next() throws InterruptedException {
    Got g = frames.poll(30, TimeUnit.SECONDS);
    if (g == null) {
      throw new AssertionError("no frame within 30 s");
    }
    return g;
  }

  CloseStatus awaitClose() throws Exception {
    return closed.get(30, TimeUnit.SECONDS);
  }

  void close(int code, String reason) {
    session.close(code, reason, Callback.NOOP);
  }

  @Override
  public void close() {
    if (session != null && !closed.isDone()) {
      session.close(CloseStatus.NORMAL, "test done", Callback.NOOP);
      try {
        closed.get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        session.abort();
      }
    }
  }
}
