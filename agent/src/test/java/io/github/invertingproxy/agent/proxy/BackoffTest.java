package io.github.invertingproxy.agent.proxy;

import static org.junit.Assert.assertEquals;

import java.time.Duration;
import org.junit.Test;

public class BackoffTest {
  @Test
  public void waitsDoubleFromOneMillisecondUpToThreeSeconds() {
    Backoff backoff = new Backoff(Backoff.FIRST, Backoff.CAP, Backoff.JITTER, () -> 0.5);

    long[] expectedMillis = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3000, 3000};
    for (long expected : expectedMillis) {
      assertEquals(Duration.ofMillis(expected), backoff.next());
    }
  }

  @Test
  public void jitterStaysWithinTenPercent() {
    Backoff low = new Backoff(Backoff.FIRST, Backoff.CAP, Backoff.JITTER, () -> 0.0);
    Backoff high = new Backoff(Backoff.FIRST, Backoff.CAP, Backoff.JITTER, () -> 1.0);
    for (int i = 0; i < 10; i++) {
      low.next();
      high.next();
    }

    assertEquals(Duration.ofMillis(1024).multipliedBy(9).dividedBy(10), low.next());
    assertEquals(Duration.ofMillis(1024).multipliedBy(11).dividedBy(10), high.next());
  }

  @Test
  public void aSuccessStartsOverFromTheFirstWait() {
    Backoff backoff = new Backoff(Backoff.FIRST, Backoff.CAP, Backoff.JITTER, () -> 0.5);
    for (int i = 0; i < 20; i++) {
      backoff.next();
    }

    backoff.reset();

    assertEquals(Duration.ofMillis(1), backoff.next());
  }

  @Test
  public void manyFailuresNeverOverflowTheCap() {
    Backoff backoff = new Backoff(Backoff.FIRST, Backoff.CAP, Backoff.JITTER, () -> 0.5);
    for (int i = 0; i < 1000; i++) {
      backoff.next();
    }

    assertEquals(Duration.ofSeconds(3), backoff.next());
  }
}
