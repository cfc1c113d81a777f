package io.github.invertingproxy.agent.backend;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.agent.http.Origin;
import io.github.invertingproxy.protocol.GoDuration;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * {@code --health-check-*}, as the original agent does them: {@code GET http://BACKEND/PATH} every
 * interval, healthy on a 200. The agent waits for a first healthy check before it polls the proxy, and
 * gives up (exit status 1) after {@code unhealthyThreshold} failures in a row.
 */
public final class HealthCheck {
  private static final Logger LOG = Logger.getLogger(HealthCheck.class.getName());
  private static final Duration MAX_CHECK_TIME = Duration.ofSeconds(30);

  private final Origin backend;
  private final URI url;
  private final Duration interval;
  private final int unhealthyThreshold;
  private int failuresInARow;

  /**
   * @param path the path to check; a missing leading {@code /} is added, as by the original
   * @param unhealthyThreshold raised to 1 when lower, as by the original
   */
  public HealthCheck(Origin backend, String path, Duration interval, int unhealthyThreshold) {
    this.backend = requireNonNull(backend, "backend");
    requireNonNull(path, "path");
    this.interval = requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("health check interval must be positive, was " + interval);
    }
    this.url = URI.create("http://" + backend.authority() + (path.startsWith("/") ? path : "/" + path));
    this.unhealthyThreshold = Math.max(1, unhealthyThreshold);
  }

  URI url() {
    return url;
  }

  public Duration interval() {
    return interval;
  }

  /**
   * Checks every interval on {@code timer} while {@code stop} says no; after the unhealthy threshold
   * of failures in a row, logs it and runs {@code unhealthy} (which stops the agent).
   */
  public void monitor(ScheduledExecutorService timer, BooleanSupplier stop, Runnable unhealthy) {
    long every = interval.toNanos();
    try {
      timer.scheduleWithFixedDelay(() -> {
        if (!stop.getAsBoolean() && checkAndCount()) {
          LOG.severe("backend " + backend + " failed " + unhealthyThreshold
              + " health checks in a row; the agent stops");
          unhealthy.run();
        }
      }, every, every, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Closed while waiting for the backend: nothing to monitor.
    }
  }

  /** Checks at once, then every interval, until a check passes or {@code stop} says so. */
  public void awaitHealthy(BooleanSupplier stop) throws InterruptedException {
    boolean announced = false;
    while (!stop.getAsBoolean()) {
      String failure = check();
      if (failure == null) {
        if (announced) {
          LOG.info("backend is healthy: " + url + " answered 200");
        }
        return;
      }
      if (!announced) {
        LOG.info("waiting for the backend to become healthy (" + failure + "); checking every "
            + GoDuration.format(interval));
        announced = true;
      } else {
        LOG.fine("backend not healthy yet: " + failure);
      }
      Thread.sleep(interval.toMillis());
    }
  }

  /**
   * One periodic check.
   *
   * @return true when the backend has now failed {@code unhealthyThreshold} checks in a row
   */
  public synchronized boolean checkAndCount() {
    String failure = check();
    if (failure == null) {
      if (failuresInARow > 0) {
        LOG.info("backend is healthy again: " + url + " answered 200");
      }
      failuresInARow = 0;
      return false;
    }
    failuresInARow++;
    LOG.warning("health check " + failuresInARow + " of " + unhealthyThreshold + " failed: " + failure);
    return failuresInARow >= unhealthyThreshold;
  }

  /** @return null when healthy, else why not */
  String check() {
    try {
      HttpURLConnection c = (HttpURLConnection) url.toURL().openConnection();
      int timeout = (int) Math.min(Math.max(interval.toMillis(), 1000), MAX_CHECK_TIME.toMillis());
      c.setConnectTimeout(timeout);
      c.setReadTimeout(timeout);
      c.setInstanceFollowRedirects(false);
      c.setUseCaches(false);
      try {
        int status = c.getResponseCode();
        return status == 200 ? null : url + " answered " + status;
      } finally {
        c.disconnect();
      }
    } catch (IOException | RuntimeException e) {
      return url + " failed: " + e.getMessage();
    }
  }
}
