package io.github.invertingproxy.core.admin;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.spi.Identity;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The admin page: one HTML page and its script, which drive the admin API from an administrator's
 * browser. Mapped at {@code /admin/*} (the page at {@code /admin/}) and at the root, which redirects
 * there. The page is same-origin with the API, so the API's caller rules let it through.
 *
 * <p>Whoever the admin API would answer with 403 gets 403 here too (a caller not signed in at all is
 * challenged to sign in first). A caller the API would ask for a bearer token gets the page, which holds
 * no data and asks for the token itself: a browser cannot send one when it opens a URL.
 */
public final class AdminPageServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final String PAGE = "page/index.html";
  private static final String SCRIPT = "page/admin.js";

  private final transient Identity identity;
  private final byte[] page;
  private final byte[] script;
  /** Script from this origin only, the page's one inline style block by its hash, no framing. */
  private final String contentSecurityPolicy;

  public AdminPageServlet(Identity identity) {
    this.identity = requireNonNull(identity, "identity");
    this.page = resource(PAGE);
    this.script = resource(SCRIPT);
    this.contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src '"
        + styleHash(new String(page, StandardCharsets.UTF_8)) + "'; img-src 'self'; base-uri 'none';"
        + " form-action 'none'; frame-ancestors 'none'";
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String method = request.getMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      response.setHeader("Allow", "GET, HEAD");
      PlainText.send(response, 405, "Method not allowed: the admin page takes GET and HEAD");
      return;
    }
    String path = request.getPathInfo();
    if (!request.getServletPath().equals("/admin") || path == null) {
      // The root or /admin: the page lives at /admin/, where its relative URLs resolve.
      response.sendRedirect(request.getContextPath() + "/admin/");
      return;
    }
    byte[] body;
    String type;
    if (path.equals("/") || path.equals("/index.html")) {
      body = page;
      type = "text/html; charset=utf-8";
    } else if (path.equals("/admin.js")) {
      body = script;
      type = "text/javascript; charset=utf-8";
    } else {
      PlainText.send(response, 404, "Not found: the admin page is at /admin/");
      return;
    }
    if (identity.adminAccess(request) == Identity.Access.FORBIDDEN) {
      if (!hasBearerToken(request) && identity.endUser(request).isEmpty()) {
        identity.challengeEndUser(request, response); // a browser not signed in: to the sign-in page
      } else {
        PlainText.send(response, 403, "Forbidden: the admin page is for administrators only");
      }
      return;
    }
    send(request, response, type, body);
  }

  private static boolean hasBearerToken(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    return authorization != null && authorization.length() > 7
        && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
  }

  private void send(HttpServletRequest request, HttpServletResponse response, String type, byte[] body)
      throws IOException {
    response.setStatus(200);
    response.setDateHeader("Date", System.currentTimeMillis());
    response.setContentType(type);
    response.setHeader("Content-Security-Policy", contentSecurityPolicy);
    response.setHeader("X-Frame-Options", "DENY");
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("Referrer-Policy", "no-referrer");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    if (!request.getMethod().equals("HEAD")) {
      response.getOutputStream().write(body);
    }
  }

  private static byte[] resource(String name) {
    try (InputStream in = AdminPageServlet.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("the admin page's " + name + " is missing from the class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("reading the admin page's " + name + " failed", e);
    }
  }

  /** The CSP source of the page's one {@code <style>} block: its SHA-256, so no other style applies. */
  static String styleHash(String html) {
    int start = html.indexOf("<style>");
    int end = html.indexOf("</style>");
    if (start < 0 || end < start || html.indexOf("<style", start + 1) >= 0) {
      throw new IllegalStateException("the admin page must have exactly one <style> block");
    }
    try {
      byte[] css = html.substring(start + "<style>".length(), end).getBytes(StandardCharsets.UTF_8);
      return "sha256-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(css));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
