package io.github.invertingproxy.appengine;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.core.ProxySettings;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.Test;

public class AppEngineConfigTest {
  private static AppEngineConfig config(Map<String, String> parameters) {
    return AppEngineConfig.from(parameters::get);
  }

  @Test
  public void withoutParametersEverySettingHasItsDefault() {
    AppEngineConfig c = config(Map.of());
    assertEquals(ProxySettings.defaults().responseTimeout(), c.proxySettings().responseTimeout());
    assertEquals(ProxySettings.defaults().pendingTimeout(), c.proxySettings().pendingTimeout());
    assertEquals(Duration.ofMinutes(2), c.cleanupSettings().exchangeMaxAge());
    assertEquals(Optional.empty(), c.cleanupSettings().backendExpiry());
    assertEquals(ExchangeSettings.APP_ENGINE_MESSAGE_LIMIT, c.exchangeSettings().maxMessageBytes());
  }

  @Test
  public void parametersUseGoDurations() {
    AppEngineConfig c = config(Map.of(AppEngineConfig.RESPONSE_TIMEOUT, "45s", AppEngineConfig.PENDING_TIMEOUT, "20s",
        AppEngineConfig.EXCHANGE_MAX_AGE, "5m", AppEngineConfig.BACKEND_EXPIRY, "1h",
        AppEngineConfig.POLL_MAX, "10ms"));
    assertEquals(Duration.ofSeconds(45), c.proxySettings().responseTimeout());
    assertEquals(Duration.ofSeconds(20), c.proxySettings().pendingTimeout());
    assertEquals(Duration.ofMinutes(5), c.cleanupSettings().exchangeMaxAge());
    assertEquals(Optional.of(Duration.ofHours(1)), c.cleanupSettings().backendExpiry());
    assertEquals(Duration.ofMillis(10), c.exchangeSettings().pollMax());
  }

  @Test
  public void aBackendExpiryOfZeroMeansNever() {
    assertEquals(Optional.empty(), config(Map.of(AppEngineConfig.BACKEND_EXPIRY, "0")).cleanupSettings().backendExpiry());
  }

  @Test
  public void anInvalidValueIsRefusedNamingItsParameter() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> config(Map.of(AppEngineConfig.RESPONSE_TIMEOUT, "soon")));
    assertTrue(e.getMessage(), e.getMessage().startsWith("context parameter inverting-proxy.response-timeout=\"soon\""));
  }

  @Test
  public void anExchangeMaxAgeNotAboveTheResponseTimeoutIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> config(Map.of(AppEngineConfig.RESPONSE_TIMEOUT, "2m")));
    assertTrue(e.getMessage(), e.getMessage().contains("inverting-proxy.exchange-max-age 2m must exceed"));
  }

  @Test
  public void aBackendExpiryInsideTheLiveWindowIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> config(Map.of(AppEngineConfig.BACKEND_EXPIRY, "1m")));
    assertTrue(e.getMessage(), e.getMessage().contains("shorter than the 5-minute live window"));
  }
}
