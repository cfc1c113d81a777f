package io.github.invertingproxy.core.admin;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.core.PlainText;
import io.github.invertingproxy.core.spi.BackendActivity;
import io.github.invertingproxy.core.spi.BackendRegistry;
import io.github.invertingproxy.core.spi.DuplicateBackendException;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendRecordJson;
import io.github.invertingproxy.protocol.BackendStatus;
import io.github.invertingproxy.protocol.InvalidBackendRecordException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The admin API over backend records, at {@code /api/backends} and {@code /api/backends/{id}}:
 * list, get, create, update and delete, for administrators only. Given a {@link BackendActivity}, its
 * GETs add each backend's status (when its agent last polled, whether it is live, and what the store
 * counts cheaply) as output-only fields.
 */
public final class AdminApiServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = Logger.getLogger(AdminApiServlet.class.getName());
  /** A record is a few hundred bytes; anything near this is a mistake or an attack. */
  static final int MAX_BODY_BYTES = 64 * 1024;

  private final transient BackendRegistry registry;
  private final transient Identity identity;
  /** Null: the records alone. */
  private final transient BackendActivity activity;

  public AdminApiServlet(BackendRegistry registry, Identity identity) {
    this(registry, identity, null);
  }

  public AdminApiServlet(BackendRegistry registry, Identity identity, BackendActivity activity) {
    this.registry = requireNonNull(registry, "registry");
    this.identity = requireNonNull(identity, "identity");
    this.activity = activity;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    switch (identity.adminAccess(request)) {
      case UNAUTHENTICATED -> {
        response.setHeader("WWW-Authenticate", "Bearer");
        PlainText.send(response, 401, "Unauthorized: the admin API needs an administrator's credentials");
        return;
      }
      case FORBIDDEN -> {
        PlainText.send(response, 403, "Forbidden: the admin API is for administrators only");
        return;
      }
      case ALLOWED -> { }
    }
    String method = request.getMethod();
    String id = idFromPath(request);
    if (id == null) {
      switch (method) {
        case "GET" -> json(response, 200, listJson());
        case "POST" -> create(request, response);
        default -> notAllowed(response, "GET, POST", "/api/backends");
      }
      return;
    }
    if (id.isEmpty()) {
      PlainText.send(response, 404, "Not found: no backend id in the path");
      return;
    }
    switch (method) {
      case "GET" -> {
        Optional<BackendRecord> record = registry.get(id);
        if (record.isPresent()) {
          json(response, 200, recordJson(record.get()));
        } else {
          PlainText.send(response, 404, "Not found: no backend with id \"" + id + "\"");
        }
      }
      case "PUT" -> update(request, response, id);
      case "DELETE" -> {
        if (registry.delete(id)) {
          LOG.info("deleted backend " + id);
          json(response, 200, "{}");
        } else {
          PlainText.send(response, 404, "Not found: no backend with id \"" + id + "\"");
        }
      }
      default -> notAllowed(response, "GET, PUT, DELETE", "/api/backends/{id}");
    }
  }

  private String listJson() {
    List<BackendRecord> records = registry.list();
    if (activity == null) {
      return BackendRecordJson.toJson(records);
    }
    return BackendRecordJson.toJson(records, activity.statusOf(records.stream().map(BackendRecord::id).toList()));
  }

  private String recordJson(BackendRecord record) {
    BackendStatus status = activity == null ? null : activity.statusOf(List.of(record.id())).get(record.id());
    return status == null ? BackendRecordJson.toJson(record) : BackendRecordJson.toJson(record, status);
  }

  private void create(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Optional<BackendRecord> record = readRecord(request, response);
    if (record.isEmpty()) {
      return;
    }
    try {
      registry.add(record.get());
    } catch (DuplicateBackendException e) {
      PlainText.send(response, 409, "Conflict: " + e.getMessage());
      return;
    }
    LOG.info("added " + record.get());
    json(response, 200, BackendRecordJson.toJson(record.get()));
  }

  private void update(HttpServletRequest request, HttpServletResponse response, String id) throws IOException {
    Optional<BackendRecord> record = readRecord(request, response);
    if (record.isEmpty()) {
      return;
    }
    if (!record.get().id().equals(id)) {
      PlainText.send(response, 400, "Bad request: field id: \"" + record.get().id()
          + "\" differs from the id in the path, \"" + id + "\"");
      return;
    }
    if (!registry.update(record.get())) {
      PlainText.send(response, 404, "Not found: no backend with id \"" + id + "\"");
      return;
    }
    LOG.info("updated " + record.get());
    json(response, 200, BackendRecordJson.toJson(record.get()));
  }

  private static Optional<BackendRecord> readRecord(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    if (request.getContentLengthLong() > MAX_BODY_BYTES) {
      PlainText.send(response, 413, "Payload too large: a backend record may be at most " + MAX_BODY_BYTES + " bytes");
      return Optional.empty();
    }
    InputStream in = request.getInputStream();
    byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
    if (body.length > MAX_BODY_BYTES) {
      PlainText.send(response, 413, "Payload too large: a backend record may be at most " + MAX_BODY_BYTES + " bytes");
      return Optional.empty();
    }
    try {
      return Optional.of(BackendRecordJson.parse(new String(body, StandardCharsets.UTF_8)));
    } catch (InvalidBackendRecordException e) {
      String field = e.field().isEmpty() ? "" : "field " + e.field() + ": ";
      PlainText.send(response, 400, "Bad request: " + field + e.getMessage());
      return Optional.empty();
    }
  }

  /** null for the collection, the id (possibly empty) for one record. */
  private static String idFromPath(HttpServletRequest request) {
    String info = request.getPathInfo();
    if (info == null || info.equals("/")) {
      return null;
    }
    String id = info.substring(1);
    return id.contains("/") ? "" : id;
  }

  private static void notAllowed(HttpServletResponse response, String allow, String path) throws IOException {
    response.setHeader("Allow", allow);
    PlainText.send(response, 405, "Method not allowed: " + path + " takes " + allow);
  }

  private static void json(HttpServletResponse response, int status, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setDateHeader("Date", System.currentTimeMillis());
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
