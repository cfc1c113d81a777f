package io.github.invertingproxy.core.websocket;

import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.WebSocketExtension;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.servlet.http.HttpServletRequest;

/** What a client's request says about a WebSocket upgrade (RFC 6455 section 4.2.1). */
public final class WebSocketHandshake {
  private static final WebSocketHandshake NONE = new WebSocketHandshake(false, null);

  private final boolean requested;
  private final String problem;

  private WebSocketHandshake(boolean requested, String problem) {
    this.requested = requested;
    this.problem = problem;
  }

  /** Reads the upgrade fields of {@code request}. */
  public static WebSocketHandshake of(HttpServletRequest request) {
    List<HeaderField> fields = new ArrayList<>();
    for (String name : new String[] {"Upgrade", "Connection"}) {
      for (String value : Collections.list(request.getHeaders(name))) {
        fields.add(new HeaderField(name, value));
      }
    }
    if (!WebSocketExtension.asksForWebSocket(Headers.of(fields))) {
      return NONE;
    }
    if (!request.getMethod().equals("GET")) {
      return new WebSocketHandshake(true, "a WebSocket upgrade must be a GET, not " + request.getMethod());
    }
    if (!"13".equals(request.getHeader("Sec-WebSocket-Version"))) {
      return new WebSocketHandshake(true, "unsupported Sec-WebSocket-Version (only 13 is)");
    }
    String key = request.getHeader("Sec-WebSocket-Key");
    if (key == null || key.isBlank()) {
      return new WebSocketHandshake(true, "missing Sec-WebSocket-Key");
    }
    return new WebSocketHandshake(true, null);
  }

  /** True when the request asks for {@code Upgrade: websocket}. */
  public boolean requested() {
    return requested;
  }

  /** Why the handshake cannot be performed; null when it is complete. */
  public String problem() {
    return problem;
  }
}
