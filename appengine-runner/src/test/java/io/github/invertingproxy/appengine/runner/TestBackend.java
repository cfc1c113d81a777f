package io.github.invertingproxy.appengine.runner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee8.servlet.ServletContextHandler;
import org.eclipse.jetty.ee8.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A private backend for the tests, on its own Jetty: {@code /echo} answers with the request body,
 * {@code /slow} answers after 1.5 s, {@code /random?bytes=N&seed=S} answers N bytes drawn from
 * {@code new Random(S)}, every other path with a line naming this backend and what it
 * received.
 */
final class TestBackend implements AutoCloseable {
  final String name;
  final List<String> received = new CopyOnWriteArrayList<>();
  private final Server server;
  private final ServerConnector connector;

  TestBackend(String name) throws Exception {
    this.name = name;
    server = new Server();
    connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new Handler()), "/*");
    server.setHandler(context.get());
    server.start();
  }

  /** {@code host:port}, as the agent's target. */
  String target() {
    return "127.0.0.1:" + connector.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  private final class Handler extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
      String path = request.getRequestURI();
      String query = request.getQueryString();
      received.add(request.getMethod() + " " + path + (query == null ? "" : "?" + query));
      if (path.equals("/echo")) {
        // Read whole, then answer: most backends do, and a half-duplex client needs it.
        byte[] body;
        try (InputStream in = request.getInputStream()) {
          body = in.readAllBytes();
        }
        response.setContentType("application/octet-stream");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
        return;
      }
      request.getInputStream().readAllBytes();
      if (path.equals("/random")) {
        byte[] body = new byte[Integer.parseInt(request.getParameter("bytes"))];
        new Random(Long.parseLong(request.getParameter("seed"))).nextBytes(body);
        response.setContentType("application/octet-stream");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
        return;
      }
      if (path.equals("/slow")) {
        try {
          Thread.sleep(1500);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] body = ("backend " + name + " got " + request.getMethod() + " " + path + "\n").getBytes(StandardCharsets.UTF_8);
      response.setContentType("text/plain");
      response.addHeader("Set-Cookie", "a=1");
      response.addHeader("Set-Cookie", "b=2");
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }
  }
}
