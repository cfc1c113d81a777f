package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class WebSocketExtensionTest {
  @Test
  public void anUpgradeNeedsBothTheUpgradeAndTheConnectionField() {
    assertTrue(WebSocketExtension.asksForWebSocket(Headers.of("Upgrade", "websocket", "Connection", "keep-alive, Upgrade")));
    assertFalse(WebSocketExtension.asksForWebSocket(Headers.of("Upgrade", "websocket")));
    assertFalse(WebSocketExtension.asksForWebSocket(Headers.of("Upgrade", "h2c", "Connection", "Upgrade")));
  }
}
