package io.github.invertingproxy.e2e;

import java.util.List;

/**
 * The two configurations the behaviour suites run in: the extensions on (the defaults: the channel,
 * the agent's backend selector that comes with it, and chained requests), and all of them off, where
 * agent and server speak the plain three calls of the protocol.
 */
enum FastPaths {
  ON("fast paths on"),
  OFF("fast paths off");

  private final String label;

  FastPaths(String label) {
    this.label = label;
  }

  boolean on() {
    return this == ON;
  }

  /** For JUnit's {@code Parameterized} runner. */
  static List<FastPaths> both() {
    return List.of(ON, OFF);
  }

  @Override
  public String toString() {
    return label;
  }
}
