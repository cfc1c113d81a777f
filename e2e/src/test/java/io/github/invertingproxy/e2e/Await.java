package io.github.invertingproxy.e2e;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests: for something the system under test does in the background, within 10 s. */
final class Await {
  private Await() {}

  static void until(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }
}
