package io.github.invertingproxy.e2e;

import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.RequestHead;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A backend on a raw socket that records every request exactly as it arrived and answers with
 * whatever bytes the test's handler writes, so that both directions can be checked byte for byte.
 */
final class RecordingBackend implements AutoCloseable {
  /** A request as the backend received it. */
  record Received(RequestHead head, byte[] body, Headers trailers) {}

  /** Writes the whole response, status line included, for one request. */
  interface Handler {
    void respond(Received request, InputStream unreadBody, OutputStream out) throws IOException, InterruptedException;
  }

  private final ServerSocket socket;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private volatile Handler handler;
  /** When set, bodies are left for the handler to read (for streaming tests) and recorded empty. */
  private volatile boolean streamBodies;

  RecordingBackend(Handler handler) throws IOException {
    this.handler = handler;
    this.socket = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    threads.execute(this::accept);
  }

  int port() {
    return socket.getLocalPort();
  }

  String hostAndPort() {
    return "127.0.0.1:" + port();
  }

  void handler(Handler h) {
    this.handler = h;
  }

  void streamBodies(boolean stream) {
    this.streamBodies = stream;
  }

  Received next() throws InterruptedException {
    Received r = received.poll(30, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("the backend received no request within 30 s");
    }
    return r;
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        Socket s = socket.accept();
        threads.execute(() -> serve(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      while (true) {
        in.mark(1);
        if (in.read() < 0) {
          return;
        }
        in.reset();
        IncomingMessage<RequestHead> m = MessageReader.readRequest(in, MessageLimits.DEFAULT);
        if (streamBodies) {
          Received r = new Received(m.head(), new byte[0], Headers.empty());
          received.add(r);
          handler.respond(r, m.body(), out);
        } else {
          byte[] body = m.body().readAllBytes();
          Received r = new Received(m.head(), body, m.trailers());
          received.add(r);
          handler.respond(r, InputStream.nullInputStream(), out);
        }
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // The peer went away; nothing to record.
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    threads.shutdownNow();
  }
}
