package io.github.invertingproxy.agent.websocket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The script that the agent injects into HTML pages with {@code --shim-websockets}: it replaces
 * {@code window.WebSocket}, for URLs on the page's own host only, by an object that speaks the shim's
 * endpoints over plain HTTP requests ({@code shim.js} beside this class).
 */
public final class ShimScript {
  private static final String SOURCE = load();

  private ShimScript() {}

  /** The {@code <script>} element for a shim served under {@code /shimPath/}. */
  public static String html(String shimPath) {
    String path = new WebSocketOptions(false, false, shimPath, false, WebSocketOptions.DEFAULT_SHIM_TIMEOUT,
        io.github.invertingproxy.websocket.RelayLimits.DEFAULT).shimPath();
    String literal;
    try {
      literal = new ObjectMapper().writeValueAsString(path).replace("<", "\\u003c");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return "<!--START_WEBSOCKET_SHIM--><script>" + SOURCE.replace("__SHIM_PATH__", literal)
        + "</script><!--END_WEBSOCKET_SHIM-->";
  }

  /** The snippet for {@code ForwardingAgent.Builder.injectHtml}. */
  public static HtmlSnippet snippet(String shimPath) {
    return HtmlSnippet.of(html(shimPath));
  }

  private static String load() {
    try (InputStream in = ShimScript.class.getResourceAsStream("shim.js")) {
      if (in == null) {
        throw new IllegalStateException("shim.js is missing from the agent's jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
