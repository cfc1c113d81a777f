package io.github.invertingproxy.agent;

import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MalformedMessageException;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a raw server socket, for tests where exact bytes matter: it records every request as
 * the bytes that arrived (and parsed), and answers with whatever bytes the test's responder writes.
 * Connections are kept alive unless the responder says otherwise.
 */
public final class RawBackend implements Closeable {
  /** Writes one response; returns false to close the connection afterwards. */
  public interface Responder {
    boolean respond(Received request, OutputStream out) throws Exception;
  }

  public static final Responder OK = (request, out) -> {
    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
    return true;
  };

  private final ServerSocket server;
  private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile Responder responder = OK;

  public RawBackend() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "raw-backend-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code 127.0.0.1:port}, as the agent's --host. */
  public String hostAndPort() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  public void respondWith(Responder responder) {
    this.responder = responder;
  }

  /** Answers every request with these bytes, keeping the connection. */
  public void respondWith(String rawResponse) {
    byte[] bytes = rawResponse.getBytes(StandardCharsets.ISO_8859_1);
    this.responder = (request, out) -> {
      out.write(bytes);
      return true;
    };
  }

  public Received awaitRequest(Duration timeout) throws InterruptedException {
    Received r = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (r == null) {
      throw new AssertionError("backend got no request within " + timeout);
    }
    return r;
  }

  /** The next request if one arrives within {@code timeout}, else null. */
  public Received pollRequest(Duration timeout) throws InterruptedException {
    return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public int connections() {
    return connections.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        sockets.add(socket);
        int index = connections.incrementAndGet();
        Thread t = new Thread(() -> serve(socket, index), "raw-backend-" + index);
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket, int connection) {
    try (socket) {
      RecordingInputStream in = new RecordingInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      while (true) {
        in.restart();
        IncomingMessage<RequestHead> message;
        try {
          message = MessageReader.readRequest(in, MessageLimits.DEFAULT);
        } catch (MalformedMessageException e) {
          return; // the agent closed the connection
        }
        byte[] body = message.body().readAllBytes();
        Received request = new Received(in.recorded(), message.head(), body, message.trailers(), connection);
        received.add(request);
        boolean keep = responder.respond(request, out);
        out.flush();
        if (!keep) {
          return;
        }
      }
    } catch (Exception e) {
      // The agent cut the connection; nothing to record.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }

  /** One request as the backend received it. */
  public record Received(byte[] raw, RequestHead head, byte[] body, Headers trailers, int connection) {
    public String rawText() {
      return new String(raw, StandardCharsets.ISO_8859_1);
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Keeps a copy of every byte read, so a request can be compared with what was sent. */
  private static final class RecordingInputStream extends FilterInputStream {
    private ByteArrayOutputStream copy = new ByteArrayOutputStream();

    RecordingInputStream(InputStream in) {
      super(in);
    }

    void restart() {
      copy = new ByteArrayOutputStream();
    }

    byte[] recorded() {
      return copy.toByteArray();
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        copy.write(b);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        copy.write(b, off, n);
      }
      return n;
    }
  }
}
