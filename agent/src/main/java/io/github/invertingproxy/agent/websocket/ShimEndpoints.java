package io.github.invertingproxy.agent.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.websocket.core.CloseStatus;

/**
 * The original agent's WebSocket shim endpoints under {@code /SHIM_PATH/} (PROTOCOL.md, "The WebSocket
 * shim"): {@code open}, {@code data}, {@code poll} and {@code close}, with JSON bodies and the
 * {@code X-Websocket-Shim-Version} header (binary messages base64 in version 1, raw in version 0).
 *
 * <p>Beyond the original, all of which an old page script ignores or never sends: session ids are
 * unguessable; {@code open} takes the page's subprotocols in {@code X-Websocket-Shim-Protocols};
 * {@code close} takes an optional {@code code} and {@code reason}; and a {@code poll} on a closed
 * session names the backend's close in {@code X-Websocket-Shim-Close-Code} and
 * {@code X-Websocket-Shim-Close-Reason}.
 */
final class ShimEndpoints implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ShimEndpoints.class.getName());
  static final String VERSION_HEADER = "X-Websocket-Shim-Version";
  static final String PROTOCOLS_HEADER = "X-Websocket-Shim-Protocols";
  static final String CLOSE_CODE_HEADER = "X-Websocket-Shim-Close-Code";
  static final String CLOSE_REASON_HEADER = "X-Websocket-Shim-Close-Reason";
  private static final Duration MAX_POLL_WAIT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final WebSocketOptions options;
  private final Dialer dialer;
  private final String backendAuthority;
  private final String prefix;
  private final Map<String, ShimSession> sessions = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;
  private final long pollWaitMillis;

  ShimEndpoints(WebSocketOptions options, Dialer dialer, String backendAuthority) {
    this.options = options;
    this.dialer = dialer;
    this.backendAuthority = backendAuthority;
    this.prefix = "/" + options.shimPath() + "/";
    this.pollWaitMillis = Math.max(1, Math.min(MAX_POLL_WAIT.toMillis(), options.shimTimeout().toMillis() / 2));
    this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "inverting-proxy-agent-websocket-shim-sweeper");
      t.setDaemon(true);
      return t;
    });
  }

  void start() {
    long every = Math.max(100, Math.min(30_000, options.shimTimeout().toMillis() / 4));
    sweeper.scheduleWithFixedDelay(this::closeIdle, every, every, TimeUnit.MILLISECONDS);
  }

  int sessionCount() {
    return sessions.size();
  }

  boolean handles(String path) {
    if (!path.startsWith(prefix)) {
      return false;
    }
    String rest = path.substring(prefix.length());
    return rest.equals("open") || rest.equals("data") || rest.equals("poll") || rest.equals("close");
  }

  void serve(String requestId, RequestHead original, RequestHead prepared, InputStream in, Runnable bodyRead,
      ResponsePoster poster) throws IOException {
    String call = original.path().substring(prefix.length());
    long limit = options.limits().maxMessageSize() * 2 + 1024 * 1024;
    byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, limit + 1));
    if (body.length <= limit) {
      bodyRead.run();
    } else {
      AgentWebSockets.answer(poster, 413, "Payload Too Large", "shim request larger than " + limit + " bytes");
      return;
    }
    Answer answer;
    try {
      answer = switch (call) {
        case "open" -> open(original, prepared, body);
        case "data" -> data(body);
        case "poll" -> poll(body);
        default -> close(body);
      };
    } catch (IOException | RuntimeException e) {
      answer = Answer.text(400, "error parsing a shim request: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      answer = Answer.text(503, "the agent is shutting down");
    }
    List<HeaderField> fields = new ArrayList<>();
    fields.add(new HeaderField("Content-Type", answer.contentType));
    fields.add(new HeaderField("Content-Length", Integer.toString(answer.body.length)));
    fields.add(new HeaderField("Cache-Control", "no-store"));
    fields.addAll(answer.extra);
    poster.post(new ResponseHead(answer.status, reason(answer.status), Headers.of(fields)), answer.body);
    String id = requestId.length() <= 12 ? requestId : requestId.substring(0, 12);
    int status = answer.status;
    LOG.log(call.equals("poll") || call.equals("data") ? Level.FINE : Level.INFO,
        () -> "websocket shim " + id + ": " + call + " -> " + status);
  }

  private Answer open(RequestHead original, RequestHead prepared, byte[] body) throws InterruptedException {
    String url = new String(body, StandardCharsets.UTF_8).trim();
    URI asked;
    try {
      asked = new URI(url);
    } catch (URISyntaxException e) {
      return Answer.text(400, "malformed shim open request: " + e.getMessage());
    }
    String target = (asked.getRawPath() == null || asked.getRawPath().isEmpty() ? "/" : asked.getRawPath())
        + (asked.getRawQuery() == null ? "" : "?" + asked.getRawQuery());
    int version = version(original.headers());
    List<String> protocols = original.headers().elements(PROTOCOLS_HEADER);
    String host = options.rewriteHost() ? prepared.headers().first("Host").orElse(null) : null;
    String pageHost = original.headers().first("Host").orElse("");
    List<HeaderField> fields = new ArrayList<>();
    for (HeaderField f : AgentWebSockets.forwardedFields(prepared.headers())) {
      String name = f.name().toLowerCase(Locale.ROOT);
      if (name.equals("origin") && host == null) {
        fields.add(new HeaderField(f.name(), backendOrigin(f.value(), pageHost, backendAuthority)));
      } else if (!name.startsWith("x-websocket-shim-") && !name.equals("content-type")) {
        fields.add(f);
      }
    }
    String sessionId = HexFormat.of().formatHex(randomBytes());
    ShimSession session = new ShimSession(sessionId, version, options.limits().maxMessageSize());
    URI dialled;
    try {
      dialled = new URI("ws://" + backendAuthority + target);
      dialer.dial(dialled, session, fields, host, protocols);
    } catch (URISyntaxException | Dialer.Refused e) {
      return Answer.text(500, "internal error opening a shim connection: " + e.getMessage());
    }
    sessions.put(sessionId, session);
    ObjectNode answer = JSON.createObjectNode();
    answer.put("id", sessionId);
    answer.put("msg", dialled.toString());
    answer.put("v", version);
    if (session.subprotocol() != null) {
      answer.put("s", session.subprotocol());
    }
    return Answer.json(200, answer);
  }

  /**
   * The page's {@code Origin} as the backend sees it when the shim dials with the backend's own
   * authority as {@code Host}: an origin naming the host that served the page names the backend
   * instead, so that a backend's same-origin check of its WebSockets (Jupyter's, for one) passes
   * exactly as it would for a page on its own host. Any other origin goes as it came, for the
   * backend to refuse.
   */
  static String backendOrigin(String origin, String pageHost, String backendAuthority) {
    try {
      String authority = new URI(origin.trim()).getRawAuthority();
      if (authority != null && !pageHost.isEmpty() && authority.equalsIgnoreCase(pageHost)) {
        return "http://" + backendAuthority;
      }
    } catch (URISyntaxException e) {
      // not an origin we can name; the backend judges it as it is
    }
    return origin;
  }

  private Answer data(byte[] body) throws IOException, InterruptedException {
    JsonNode messages = JSON.readTree(body);
    if (messages == null || !messages.isArray()) {
      return Answer.text(400, "error parsing a shim request: expected a JSON array of messages");
    }
    for (JsonNode m : messages) {
      String id = m.path("id").asText("");
      ShimSession session = sessions.get(id);
      if (session == null) {
        return Answer.text(400, "unknown shim session ID: \"" + id + "\"");
      }
      session.touch();
      JsonNode msg = m.get("msg");
      boolean binary;
      byte[] data;
      if (msg != null && msg.isTextual()) {
        binary = false;
        data = msg.textValue().getBytes(StandardCharsets.UTF_8);
      } else if (msg != null && msg.isArray() && msg.size() == 1 && msg.get(0).isTextual()) {
        binary = true;
        String text = msg.get(0).textValue();
        try {
          data = session.version == 0 ? text.getBytes(StandardCharsets.UTF_8) : Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
          return Answer.text(400, "unexpected websocket-shim message format: binary data is not base64");
        }
      } else {
        return Answer.text(400, "unexpected websocket-shim message type");
      }
      if (data.length > options.limits().maxMessageSize()) {
        session.close(CloseStatus.MESSAGE_TOO_LARGE, "message larger than " + options.limits().maxMessageSize() + " bytes");
        return Answer.text(400, "message larger than " + options.limits().maxMessageSize() + " bytes");
      }
      try {
        session.send(binary, data);
      } catch (ShimSession.ClosedException e) {
        return Answer.text(400, "attempt to send data on a closed session: \"" + id + "\"");
      }
    }
    return Answer.text(200, "ok");
  }

  private Answer poll(byte[] body) throws IOException, InterruptedException {
    String id = JSON.readTree(body).path("id").asText("");
    ShimSession session = sessions.get(id);
    if (session == null) {
      return Answer.text(400, "unknown shim session ID: \"" + id + "\"");
    }
    session.touch();
    List<ShimSession.Message> messages;
    try {
      messages = session.poll(pollWaitMillis);
    } catch (ShimSession.ClosedException e) {
      sessions.remove(id, session);
      Answer closed = Answer.text(400, "attempt to read data from a closed session: \"" + id + "\"");
      if (e.status != null) {
        closed.extra.add(new HeaderField(CLOSE_CODE_HEADER, Integer.toString(e.status.getCode())));
        if (e.status.getReason() != null && !e.status.getReason().isEmpty()) {
          closed.extra.add(new HeaderField(CLOSE_REASON_HEADER,
              URLEncoder.encode(e.status.getReason(), StandardCharsets.UTF_8).replace("+", "%20")));
        }
      }
      return closed;
    } finally {
      session.touch();
    }
    if (messages.isEmpty()) {
      return new Answer(408, "text/plain; charset=utf-8", new byte[0]);
    }
    ArrayNode answer = JSON.createArrayNode();
    for (ShimSession.Message m : messages) {
      if (!m.binary()) {
        answer.add(ShimSession.text(m.data()));
      } else {
        answer.addArray().add(session.version == 0 ? ShimSession.text(m.data())
            : Base64.getEncoder().encodeToString(m.data()));
      }
    }
    return Answer.json(200, answer);
  }

  private Answer close(byte[] body) throws IOException {
    JsonNode request = JSON.readTree(body);
    String id = request.path("id").asText("");
    ShimSession session = sessions.remove(id);
    if (session == null) {
      return Answer.text(400, "unknown shim session ID: \"" + id + "\"");
    }
    int code = request.path("code").asInt(CloseStatus.NORMAL);
    if (code != CloseStatus.NORMAL && (code < 3000 || code > 4999)) {
      code = CloseStatus.NORMAL;
    }
    session.close(code, request.path("reason").asText(""));
    return Answer.text(200, "ok");
  }

  private void closeIdle() {
    long timeout = options.shimTimeout().toNanos();
    for (Map.Entry<String, ShimSession> e : sessions.entrySet()) {
      if (e.getValue().idleNanos() >= timeout && sessions.remove(e.getKey(), e.getValue())) {
        LOG.info("websocket shim session " + e.getKey().substring(0, 8) + " idle for "
            + options.shimTimeout().toMillis() + " ms; closed");
        e.getValue().close(CloseStatus.SHUTDOWN, "shim session idle");
      }
    }
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    for (ShimSession s : sessions.values()) {
      s.close(CloseStatus.SHUTDOWN, "agent shutting down");
    }
    sessions.clear();
  }

  private static int version(Headers headers) {
    try {
      return Integer.parseInt(headers.first(VERSION_HEADER).orElse("0").trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return b;
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 408 -> "Request Timeout";
      case 413 -> "Payload Too Large";
      case 500 -> "Internal Server Error";
      default -> "Service Unavailable";
    };
  }

  /** One endpoint's answer. */
  private static final class Answer {
    final int status;
    final String contentType;
    final byte[] body;
    final List<HeaderField> extra = new ArrayList<>();

    Answer(int status, String contentType, byte[] body) {
      this.status = status;
      this.contentType = contentType;
      this.body = body;
    }

    static Answer text(int status, String text) {
      return new Answer(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    static Answer json(int status, JsonNode node) {
      try {
        return new Answer(status, "application/json", JSON.writeValueAsBytes(node));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
