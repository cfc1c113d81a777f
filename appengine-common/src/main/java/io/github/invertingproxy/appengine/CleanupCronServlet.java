package io.github.invertingproxy.appengine;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.spi.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * {@code /cron/delete}: runs {@link ExchangeCleanup} for App Engine cron, which marks its calls
 * with {@code X-Appengine-Cron: true} (App Engine strips that header from outside requests), or
 * for an administrator. Anyone else gets 403.
 */
public final class CleanupCronServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  static final String CRON_HEADER = "X-Appengine-Cron";

  private final transient ExchangeCleanup cleanup;
  private final transient Identity identity;

  public CleanupCronServlet(ExchangeCleanup cleanup, Identity identity) {
    this.cleanup = requireNonNull(cleanup, "cleanup");
    this.identity = requireNonNull(identity, "identity");
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    boolean cron = "true".equalsIgnoreCase(request.getHeader(CRON_HEADER));
    if (!cron && identity.adminAccess(request) != Identity.Access.ALLOWED) {
      answer(response, HttpServletResponse.SC_FORBIDDEN,
          "the cleanup runs for App Engine cron (" + CRON_HEADER + ": true) or an administrator only");
      return;
    }
    answer(response, HttpServletResponse.SC_OK, cleanup.run().toString());
  }

  private static void answer(HttpServletResponse response, int status, String text) throws IOException {
    response.setStatus(status);
    response.setContentType("text/plain; charset=utf-8");
    response.setHeader("Cache-Control", "no-store");
    response.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
