package io.github.invertingproxy.e2e;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
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
 * A real WebSocket backend on Jetty's frame-level server, for the tests:
 * <ul>
 * <li>{@code /echo}: sends every frame back as it came (fragments, pings as pongs), records what it
 *     got, and accepts the first of the subprotocols {@code chat.v2}, {@code chat.v1} offered;
 * <li>{@code /close?code=C&reason=R}: closes with that code as soon as it opens;
 * <li>{@code /hello}: sends "hello" as soon as it opens, then echoes;
 * <li>{@code /paused}: reads nothing until {@link #resume()}, then counts bytes;
 * <li>{@code /refuse}: answers the handshake with 403;
 * <li>any other path over plain HTTP: the page given to {@link #page}, as text/html.
 * </ul>
 */
final class WebSocketBackend implements AutoCloseable {
  /** A frame as the backend received it. */
  public record Received(byte opcode, boolean fin, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  private final Server server = new Server();
  private final ServerConnector connector = new ServerConnector(server);
  public final BlockingQueue<Received> frames = new LinkedBlockingQueue<>();
  public final BlockingQueue<CloseStatus> closes = new LinkedBlockingQueue<>();
  public final BlockingQueue<HttpFields> handshakes = new LinkedBlockingQueue<>();
  public final AtomicLong pausedBytes = new AtomicLong();
  private final Map<CoreSession, Boolean> open = new ConcurrentHashMap<>();
  private volatile CountDownLatch resume = new CountDownLatch(1);
  private volatile String page = "<!doctype html><html><head><title>t</title></head><body>no page</body></html>";

  public WebSocketBackend() throws Exception {
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    WebSocketUpgradeHandler upgrades = new WebSocketUpgradeHandler(WebSocketServerComponents.ensureWebSocketComponents(server));
    upgrades.addMapping("/echo", negotiator(Mode.ECHO));
    upgrades.addMapping("/hello", negotiator(Mode.HELLO));
    upgrades.addMapping("/close", negotiator(Mode.CLOSE));
    upgrades.addMapping("/paused", negotiator(Mode.PAUSED));
    upgrades.addMapping("/refuse", new WebSocketNegotiator.AbstractNegotiator() {
      @Override
      public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        Response.writeError(request, response, callback, 403, "not for you");
        return null;
      }
    });
    upgrades.setHandler(new org.eclipse.jetty.server.Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        byte[] body = page.getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.getHeaders().put("Content-Type", "text/html; charset=utf-8");
        response.getHeaders().put("Content-Length", body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
      }
    });
    server.setHandler(upgrades);
    server.start();
  }

  private enum Mode { ECHO, HELLO, CLOSE, PAUSED }

  private WebSocketNegotiator negotiator(Mode mode) {
    return new WebSocketNegotiator.AbstractNegotiator() {
      @Override
      public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        handshakes.add(HttpFields.build(request.getHeaders()).asImmutable());
        for (String wanted : List.of("chat.v2", "chat.v1")) {
          if (request.hasSubProtocol(wanted)) {
            response.setAcceptedSubProtocol(wanted);
            break;
          }
        }
        response.getHeaders().add("Set-Cookie", "ws=1; Path=/");
        Fields query = Request.extractQueryParameters(request);
        return new Socket(mode, query);
      }
    };
  }

  public String hostAndPort() {
    return "127.0.0.1:" + connector.getLocalPort();
  }

  public int port() {
    return connector.getLocalPort();
  }

  public void page(String html) {
    this.page = html;
  }

  /** Lets {@code /paused} sockets read. */
  public void resume() {
    resume.countDown();
  }

  /** Open sockets now. */
  public int openSockets() {
    return open.size();
  }

  /** Drops every socket's connection without a close frame, as a dying backend would. */
  public void abortAll() {
    for (CoreSession s : open.keySet()) {
      s.abort();
    }
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  private final class Socket implements FrameHandler {
    private final Mode mode;
    private final Fields query;
    private CoreSession session;

    Socket(Mode mode, Fields query) {
      this.mode = mode;
      this.query = query;
    }

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
      session = coreSession;
      session.setAutoFragment(false);
      session.setMaxFrameSize(64L * 1024 * 1024);
      session.setIdleTimeout(java.time.Duration.ofMinutes(5));
      open.put(session, true);
      callback.succeeded();
      switch (mode) {
        case CLOSE -> session.close(Integer.parseInt(query.getValue("code")), query.getValue("reason"), Callback.NOOP);
        case HELLO -> session.sendFrame(new Frame(OpCode.TEXT, "hello"), Callback.from(session::demand), false);
        case PAUSED -> new Thread(() -> {
          try {
            resume.await();
          } catch (InterruptedException e) {
            return;
          }
          session.demand();
        }, "paused-backend").start();
        default -> session.demand();
      }
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
      byte[] payload = BufferUtil.toArray(frame.getPayload());
      if (frame.getOpCode() == OpCode.CLOSE) {
        callback.succeeded();
        return;
      }
      if (mode == Mode.PAUSED) {
        pausedBytes.addAndGet(payload.length);
        callback.succeeded();
        session.demand();
        return;
      }
      frames.add(new Received(frame.getOpCode(), frame.isFin(), payload));
      byte opcode = frame.getOpCode() == OpCode.PING ? OpCode.PONG : frame.getOpCode();
      session.sendFrame(new Frame(opcode, frame.isFin(), ByteBuffer.wrap(payload)),
          Callback.from(() -> { callback.succeeded(); session.demand(); }, callback::failed), false);
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
      callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus closeStatus, Callback callback) {
      if (session != null) {
        open.remove(session);
      }
      closes.add(closeStatus);
      callback.succeeded();
    }
  }

  /** The value of {@code name} in a recorded handshake, or null. */
  public static String field(HttpFields fields, String name) {
    HttpField f = fields.getField(name);
    return f == null ? null : f.getValue();
  }
}
