import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
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
 * The soak's private backend, on 127.0.0.1 (Jetty, from the server jar's classpath). Every body is
 * {@link #expected} of its path, so a client can tell a whole body from a cut one byte for byte:
 * <ul>
 *   <li>{@code /small}: 100 bytes with Content-Length;
 *   <li>{@code /large}: 1 MiB with Content-Length;
 *   <li>{@code /stream}: 16 KiB without a length (chunked), in 16 writes 50 ms apart;
 *   <li>{@code /ws}: a WebSocket that sends every message back.
 * </ul>
 */
final class SoakBackend implements AutoCloseable {
  static final int SMALL = 100;
  static final int LARGE = 1024 * 1024;
  static final int STREAM_PIECE = 1024;
  static final int STREAM_PIECES = 16;
  static final long STREAM_PAUSE_MILLIS = 50;

  private final Server server = new Server(new QueuedThreadPool(400, 8));
  private final ServerConnector connector = new ServerConnector(server);

  SoakBackend() throws Exception {
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    WebSocketUpgradeHandler upgrades =
        new WebSocketUpgradeHandler(WebSocketServerComponents.ensureWebSocketComponents(server));
    upgrades.addMapping("/ws", new WebSocketNegotiator.AbstractNegotiator() {
      @Override
      public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        return new Echo();
      }
    });
    upgrades.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        switch (path) {
          case "/small", "/large" -> {
            byte[] body = expected(path);
            response.setStatus(200);
            response.getHeaders().put("Content-Type", "application/octet-stream");
            response.getHeaders().put("Content-Length", body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
          }
          case "/stream" -> stream(response, callback);
          default -> Response.writeError(request, response, callback, 404, "no such soak path " + path);
        }
        return true;
      }
    });
    server.setHandler(upgrades);
    server.start();
  }

  int port() {
    return connector.getLocalPort();
  }

  /** The whole body of {@code path}: a counting pattern, so that a missing or moved byte shows. */
  static byte[] expected(String path) {
    int length = switch (path) {
      case "/small" -> SMALL;
      case "/large" -> LARGE;
      case "/stream" -> STREAM_PIECE * STREAM_PIECES;
      default -> throw new IllegalArgumentException(path);
    };
    byte[] body = new byte[length];
    for (int i = 0; i < length; i++) {
      body[i] = (byte) ('a' + (i * 7 + i / 251) % 26);
    }
    return body;
  }

  private static final byte[] STREAM = expected("/stream");

  /** Writes the stream's pieces one after another, each after a pause, from a thread of its own. */
  private static void stream(Response response, Callback callback) {
    response.setStatus(200);
    response.getHeaders().put("Content-Type", "application/octet-stream");
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; i < STREAM_PIECES; i++) {
          Thread.sleep(STREAM_PAUSE_MILLIS);
          FutureCallback written = new FutureCallback();
          response.write(i == STREAM_PIECES - 1, ByteBuffer.wrap(STREAM, i * STREAM_PIECE, STREAM_PIECE), written);
          written.get(60, TimeUnit.SECONDS);
        }
        callback.succeeded();
      } catch (Throwable e) {
        callback.failed(e);
      }
    }, "soak-stream");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  /** Sends every data frame back as it came. */
  private static final class Echo implements FrameHandler {
    private CoreSession session;

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
      session = coreSession;
      session.setIdleTimeout(Duration.ofMinutes(2));
      callback.succeeded();
      session.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
      if (frame.getOpCode() == OpCode.CLOSE || frame.getOpCode() == OpCode.PONG) {
        callback.succeeded();
        if (frame.getOpCode() == OpCode.PONG) {
          session.demand();
        }
        return;
      }
      byte opcode = frame.getOpCode() == OpCode.PING ? OpCode.PONG : frame.getOpCode();
      session.sendFrame(new Frame(opcode, frame.isFin(), ByteBuffer.wrap(BufferUtil.toArray(frame.getPayload()))),
          Callback.from(() -> {
            callback.succeeded();
            session.demand();
          }, callback::failed), false);
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
      callback.succeeded();
    }

    @Override
    public void onClosed(org.eclipse.jetty.websocket.core.CloseStatus closeStatus, Callback callback) {
      callback.succeeded();
    }
  }
}
