package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class AgentFeaturesTest {
  @Test
  public void aFeatureListIsReadAsCommaSeparatedTokensInAnyCase() {
    assertTrue(AgentFeatures.lists("websocket", AgentFeatures.WEBSOCKET));
    assertTrue(AgentFeatures.lists("other, WebSocket", AgentFeatures.WEBSOCKET));
    assertTrue(AgentFeatures.lists("websocket,next-request", AgentFeatures.NEXT_REQUEST));
    assertFalse(AgentFeatures.lists(null, AgentFeatures.WEBSOCKET));
    assertFalse(AgentFeatures.lists("websockets", AgentFeatures.WEBSOCKET));
    assertFalse(AgentFeatures.lists("next-requests", AgentFeatures.NEXT_REQUEST));
  }
}
