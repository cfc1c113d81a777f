package io.github.invertingproxy.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.HttpServletResponse;

/**
 * Error answers: a status and one line of plain text that says what went wrong. They carry their own
 * Date, because the container adds none: a relayed response must keep the backend's Date alone.
 */
public final class PlainText {
  private PlainText() {}

  public static void send(HttpServletResponse response, int status, String message) throws IOException {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setDateHeader("Date", System.currentTimeMillis());
    response.setContentType("text/plain; charset=utf-8");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
