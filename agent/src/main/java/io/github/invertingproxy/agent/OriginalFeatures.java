package io.github.invertingproxy.agent;

import io.github.invertingproxy.agent.html.Banner;
import io.github.invertingproxy.agent.html.FaviconLink;
import io.github.invertingproxy.commandline.Flags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The original agent's flags beyond forwarding, with its names, defaults and environment variables:
 * health checks, session cookies, the banner and favicon, HTTP/2 to the backend; and its Cloud
 * Monitoring and stats flags, accepted so that old command lines still start, but not acted on.
 */
final class OriginalFeatures {
  private static final Logger LOG = Logger.getLogger(OriginalFeatures.class.getName());
  static final String DEFAULT_BANNER_HEIGHT = "40px";

  private final Flags.Flag<String> healthCheckPath;
  private final Flags.Flag<Integer> healthCheckInterval;
  private final Flags.Flag<Integer> healthCheckUnhealthy;
  private final Flags.Flag<String> sessionCookieName;
  private final Flags.Flag<Duration> sessionCookieTimeout;
  private final Flags.Flag<Integer> sessionCookieCacheLimit;
  private final Flags.Flag<String> injectBanner;
  private final Flags.Flag<String> bannerHeight;
  private final Flags.Flag<String> faviconUrl;
  private final Flags.Flag<Boolean> forceHttp2;
  private final List<Flags.Flag<?>> notActedOn = new ArrayList<>();

  private OriginalFeatures(Flags flags) {
    healthCheckPath = flags.string("health-check-path", "/",
        "Path on backend host to issue health checks against").env("HEALTH_CHECK_PATH");
    healthCheckInterval = flags.integer("health-check-interval-seconds", 0,
        "Wait time in seconds between health checks; 0 disables them. With checks the agent polls only\n"
            + "once the backend answers 200").env("HEALTH_CHECK_INTERVAL_SECONDS");
    healthCheckUnhealthy = flags.integer("health-check-unhealthy-threshold", 2,
        "A so-far healthy backend is marked unhealthy after this many consecutive failures, and the agent\n"
            + "exits with status 1. The minimum value is 1").env("HEALTH_CHECK_UNHEALTHY_THRESHOLD");
    sessionCookieName = flags.string("session-cookie-name", "",
        "Name of the session cookie; an empty value disables agent-based session tracking (the agent keeps\n"
            + "the backend's cookies and gives the browser this one cookie)").env("SESSION_COOKIE_NAME");
    sessionCookieTimeout = flags.duration("session-cookie-timeout", Duration.ofHours(12),
        "Expiration of the session cookie").env("SESSION_COOKIE_TIMEOUT");
    sessionCookieCacheLimit = flags.integer("session-cookie-cache-limit", 1000,
        "Upper bound on the number of concurrent sessions that can be tracked by the agent")
        .env("SESSION_COOKIE_CACHE_LIMIT");
    injectBanner = flags.string("inject-banner", "", "HTML snippet to inject in served webpages, as a banner on top")
        .env("INJECT_BANNER");
    bannerHeight = flags.string("banner-height", DEFAULT_BANNER_HEIGHT,
        "Height of the injected banner (a CSS length). This is ignored if no banner is set").env("BANNER_HEIGHT");
    faviconUrl = flags.string("favicon-url", "", "URL of the favicon for the backend's pages").env("FAVICON_URL");
    forceHttp2 = flags.bool("force-http2", false,
        "Force connections to the backend host to be performed using HTTP/2 (without TLS)").env("FORCE_HTTP2");
    // The image sets these three, empty, as the original image does; only a value is worth a warning.
    notActedOn.add(flags.string("monitoring-project-id", "", "Accepted for compatibility; no metrics are written")
        .env("MONITORING_PROJECT_ID"));
    notActedOn.add(flags.string("metric-domain", "", "Accepted for compatibility; no metrics are written")
        .env("METRIC_DOMAIN"));
    notActedOn.add(flags.string("monitoring-endpoint", "monitoring.googleapis.com:443",
        "Accepted for compatibility; no metrics are written"));
    notActedOn.add(flags.string("monitoring-resource-type", "gce_instance",
        "Accepted for compatibility; no metrics are written"));
    notActedOn.add(flags.string("monitoring-resource-labels", "",
        "Accepted for compatibility; no metrics are written").env("MONITORING_RESOURCE_LABELS"));
    notActedOn.add(flags.string("stats-addr", "", "Accepted for compatibility; no stats page is served"));
    notActedOn.add(flags.bool("enable-websockets-injection", false,
        "Accepted for compatibility; the shim does not inject request headers into WebSocket messages"));
    notActedOn.add(flags.bool("disable-aws-vm-header", false,
        "Accepted for compatibility; this agent adds no AWS EC2 header"));
  }

  /** Declares the flags; check them after parsing with {@link #check}. */
  static OriginalFeatures define(Flags flags) {
    return new OriginalFeatures(flags);
  }

  /** Fails on values the agent cannot use, naming the flag; run after parsing. */
  void check() throws Flags.UsageException {
    ForwardingAgent.Builder b = ForwardingAgent.builder();
    try {
      applyTo(b, false);
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException(e.getMessage(), false);
    }
  }

  /** Sets what the flags ask for on {@code builder}, and says which given flags are not acted on. */
  void applyTo(ForwardingAgent.Builder builder) {
    applyTo(builder, true);
  }

  private void applyTo(ForwardingAgent.Builder builder, boolean warn) {
    if (healthCheckInterval.get() > 0) {
      String path = healthCheckPath.get().startsWith("/") ? healthCheckPath.get() : "/" + healthCheckPath.get();
      builder.healthCheck(path, Duration.ofSeconds(healthCheckInterval.get()),
          Math.max(1, healthCheckUnhealthy.get()));
    }
    if (!sessionCookieName.get().isEmpty()) {
      try {
        builder.sessionCookies(sessionCookieName.get(), sessionCookieTimeout.get(), sessionCookieCacheLimit.get());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid --session-cookie-*: " + e.getMessage(), e);
      }
    }
    if (!injectBanner.get().isEmpty()) {
      try {
        builder.injectHtml(new Banner(injectBanner.get(), bannerHeight.get()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid --banner-height: " + e.getMessage(), e);
      }
    }
    if (!faviconUrl.get().isBlank()) {
      builder.injectHtml(new FaviconLink(faviconUrl.get()));
    }
    builder.forceHttp2(forceHttp2.get());
    if (warn) {
      for (Flags.Flag<?> f : notActedOn) {
        if (f.isSet() && !"".equals(f.get()) && !Boolean.FALSE.equals(f.get())) {
          LOG.warning("--" + f.name() + " is accepted for compatibility with the original agent and ignored");
        }
      }
    }
  }
}
