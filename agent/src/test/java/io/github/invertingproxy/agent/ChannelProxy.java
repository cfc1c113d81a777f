package io.github.invertingproxy.agent;

import io.github.invertingproxy.protocol.AgentFeatures;
import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import io.github.invertingproxy.websocket.Pongs;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.eclipse.jetty.websocket.core.server.WebSocketUpgradeHandler;

/**
 * A proxy that offers the channel extension, on Jetty: every poll is answered {@code []} (after a
 * short hold) with the offer, {@code agent/channel} is a WebSocket the test drives frame by frame,
 * and {@code agent/response} posts are recorded. Requests reach the agent only over the channel.
 */
final class ChannelProxy implements AutoCloseable {
  private static final long HOLD_MILLIS = 100;

  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server);
  private final BlockingQueue<HttpFields> handshakes = new LinkedBlockingQueue<>();
  private final BlockingQueue<CoreSession> opened = new LinkedBlockingQueue<>();
  private final BlockingQueue<ChannelFrame> frames = new LinkedBlockingQueue<>();
  private final BlockingQueue<CloseStatus> closes = new LinkedBlockingQueue<>();
  private final Map<String, byte[]> posted = new ConcurrentHashMap<>();
  private final List<String> pollFeatures = new CopyOnWriteArrayList<>();
  private volatile CoreSession session;

  ChannelProxy() throws Exception {
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    WebSocketUpgradeHandler upgrades =
        new WebSocketUpgradeHandler(WebSocketServerComponents.ensureWebSocketComponents(server));
    upgrades.addMapping("/base/" + ChannelFrame.PATH, new WebSocketNegotiator.AbstractNegotiator() {
      @Override
      public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        handshakes.add(HttpFields.build(request.getHeaders()).asImmutable());
        return new ProxySide();
      }
    });
    upgrades.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String call = request.getMethod() + " " + request.getHttpURI().getPath();
        switch (call) {
          case "GET /base/agent/pending" -> {
            String features = request.getHeaders().get(AgentFeatures.HEADER);
            pollFeatures.add(features == null ? "" : features);
            Thread.sleep(HOLD_MILLIS);
            response.getHeaders().put(AgentFeatures.HEADER, AgentFeatures.CHANNEL);
            answer(response, 200, "[]", callback);
          }
          case "POST /base/agent/response" -> {
            String id = request.getHeaders().get(ProtocolHeaders.REQUEST_ID);
            try (InputStream in = Content.Source.asInputStream(request)) {
              posted.put(id, in.readAllBytes());
            }
            answer(response, 200, "", callback);
          }
          default -> answer(response, 404, "no such call", callback);
        }
        return true;
      }
    });
    server.setHandler(upgrades);
    server.start();
  }

  private static void answer(Response response, int status, String body, Callback callback) {
    response.setStatus(status);
    response.getHeaders().put("Content-Type", "text/plain");
    Content.Sink.write(response, true, body, callback);
  }

  /** The agent-facing base URL. */
  String url() {
    return "http://127.0.0.1:" + connector.getLocalPort() + "/base/";
  }

  /** The fields of the next channel handshake. */
  HttpFields awaitHandshake(Duration timeout) throws InterruptedException {
    return poll(handshakes, timeout, "no channel handshake");
  }

  /** Waits for the next channel to open; later sends go to it. */
  void awaitOpen(Duration timeout) throws InterruptedException {
    session = poll(opened, timeout, "no channel opened");
  }

  /** The feature header of every poll so far, "" when absent. */
  List<String> pollFeatures() {
    return List.copyOf(pollFeatures);
  }

  /** Sends one binary message, in as many fragments as {@code pieces} cuts it into. */
  void send(byte[] message, int pieces) throws Exception {
    int size = (message.length + pieces - 1) / pieces;
    for (int offset = 0, i = 0; i < pieces; i++, offset += size) {
      int end = Math.min(message.length, offset + size);
      Callback.Completable sent = new Callback.Completable();
      session.sendFrame(new Frame(i == 0 ? OpCode.BINARY : OpCode.CONTINUATION, i == pieces - 1,
          ByteBuffer.wrap(message, Math.min(offset, message.length), Math.max(0, end - offset))), sent, false);
      sent.get(5, TimeUnit.SECONDS);
    }
  }

  void send(ChannelFrame frame) throws Exception {
    ByteBuffer encoded = ChannelFrame.encode(frame);
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);
    send(bytes, 1);
  }

  /** Closes the current channel from the proxy's side. */
  void closeChannel(int code, String reason) {
    session.close(code, reason, Callback.NOOP);
  }

  /** The next frame the agent sent, decoded. */
  ChannelFrame awaitFrame(Duration timeout) throws InterruptedException {
    return poll(frames, timeout, "no frame from the agent");
  }

  /** The next frame if one arrives within {@code timeout}, else null. */
  ChannelFrame pollFrame(Duration timeout) throws InterruptedException {
    return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** How the next channel closed, as the proxy saw it. */
  CloseStatus awaitClose(Duration timeout) throws InterruptedException {
    return poll(closes, timeout, "no channel closed");
  }

  /** The body of the agent/response post for {@code id}. */
  byte[] awaitPosted(String id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      byte[] body = posted.get(id);
      if (body != null) {
        return body;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no agent/response for " + id + " within " + timeout);
  }

  boolean wasPosted(String id) {
    return posted.containsKey(id);
  }

  private static <T> T poll(BlockingQueue<T> queue, Duration timeout, String what) throws InterruptedException {
    T item = queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (item == null) {
      throw new AssertionError(what + " within " + timeout);
    }
    return item;
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  /** The proxy's end of one channel: collects the agent's messages and answers its pings. */
  private final class ProxySide implements FrameHandler {
    private final ByteArrayOutputStream message = new ByteArrayOutputStream();
    private CoreSession coreSession;

    @Override
    public void onOpen(CoreSession s, Callback callback) {
      coreSession = s;
      s.setMaxFrameSize(ChannelFrame.MAX_FRAME_BYTES);
      callback.succeeded();
      opened.add(s);
      s.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
      switch (frame.getOpCode()) {
        case OpCode.PING -> {
          coreSession.sendFrame(new Frame(OpCode.PONG, Pongs.copyPayload(frame)), Callback.NOOP, false);
        }
        case OpCode.BINARY, OpCode.CONTINUATION -> {
          message.writeBytes(BufferUtil.toArray(frame.getPayload()));
          if (frame.isFin()) {
            try {
              frames.add(ChannelFrame.decode(ByteBuffer.wrap(message.toByteArray())));
            } catch (MalformedMessageException e) {
              throw new AssertionError("the agent sent an unreadable frame", e);
            }
            message.reset();
          }
        }
        case OpCode.CLOSE -> {
          callback.succeeded();
          return;
        }
        default -> {}
      }
      callback.succeeded();
      coreSession.demand();
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
      callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus status, Callback callback) {
      closes.add(status);
      callback.succeeded();
    }
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }
}
