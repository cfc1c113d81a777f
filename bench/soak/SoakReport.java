import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The soak's figures: a line a minute while it runs, the pass criteria at the end. RSS is judged
 * after two minutes of warm-up: each server life's later samples against its first one after warm-up,
 * and each agent life's RSS when it was killed against the median of all of them.
 */
final class SoakReport {
  private static final double RSS_TOLERANCE = 0.10;
  /**
   * RSS grows for the first minutes of a life under load (compiled code, metaspace, buffer pools):
   * with one minute of warm-up, a 10-minute soak saw +10.4 % and +11.6 % by minute 3, then no more.
   */
  private static final long WARM_UP_NANOS = TimeUnit.SECONDS.toNanos(120);

  private final SoakTraffic traffic;
  /** Per server life: its RSS samples (KiB) taken after warm-up. */
  private final List<List<Long>> serverRss = new ArrayList<>(List.of(new ArrayList<>()));
  /** RSS (KiB) of each agent life when it ended, for lives that ended after the warm-up. */
  private final List<Long> agentRssAtEnd = new ArrayList<>();
  private long printedMinute;

  SoakReport(SoakTraffic traffic) {
    this.traffic = traffic;
  }

  void header() {
    System.out.println("  min |     sent |      2xx | 502 / 503 / 504 | aborted | trunc 200 | other | refused | unbounded "
        + "| server RSS MiB, threads (outside pools) | agent RSS MiB, threads (outside pools)");
  }

  void sample(long elapsedNanos, long serverPid, long agentPid, long serverAgeNanos) {
    long serverKib = ProcessFigures.rssKib(serverPid);
    if (serverAgeNanos >= WARM_UP_NANOS && serverKib > 0) {
      serverRss.get(serverRss.size() - 1).add(serverKib);
    }
    long minute = TimeUnit.NANOSECONDS.toMinutes(elapsedNanos);
    if (minute > printedMinute) {
      printedMinute = minute;
      System.out.printf("%5.1f | %8d | %8d | %3d / %4d / %4d | %7d | %9d | %5d | %7d | %9d | %8.0f, %4d (%d) | %8.0f, %4d (%d)%n",
          elapsedNanos / 60e9, traffic.sent.get(), traffic.ok.get(), traffic.gateway[0].get(),
          traffic.gateway[1].get(), traffic.gateway[2].get(), traffic.aborted.get(),
          traffic.truncated.get(), traffic.otherStatus.get(), traffic.refused.get(), traffic.unbounded.get(),
          serverKib / 1024.0, ProcessFigures.threads(serverPid), ProcessFigures.threadsOutsidePools(serverPid),
          ProcessFigures.rssKib(agentPid) / 1024.0, ProcessFigures.threads(agentPid),
          ProcessFigures.threadsOutsidePools(agentPid));
    }
  }

  /** Prints the figures now, after the load stopped and the last exchanges ended. */
  void printFinal(long elapsedNanos, long serverPid, long agentPid) {
    printedMinute = -1;
    sample(elapsedNanos, serverPid, agentPid, 0);
  }

  void agentEnded(long agentPid, long elapsedNanos) {
    long kib = ProcessFigures.rssKib(agentPid);
    if (elapsedNanos >= WARM_UP_NANOS && kib > 0) {
      agentRssAtEnd.add(kib);
    }
  }

  void serverRestarted(long elapsedNanos) {
    System.out.printf("  server restarted at %.1f min%n", elapsedNanos / 60e9);
    serverRss.add(new ArrayList<>());
  }

  /** Prints each criterion and whether it held; true when all did. */
  boolean verdict(boolean allEnded, long serverIdle, long agentIdle, long[] threadsAfter, int slack) {
    System.out.println();
    System.out.println("soak: pass criteria");
    boolean ok = criterion("every request was answered or aborted within " + SoakTraffic.BOUND.toSeconds() + " s",
        allEnded && traffic.unbounded.get() == 0, traffic.unbounded.get() + " unbounded"
            + (allEnded ? "" : ", clients still waiting at the end"));
    ok &= criterion("no truncated 200", traffic.truncated.get() == 0, traffic.truncated.get() + " truncated");
    ok &= criterion("no status other than 2xx, 502, 503, 504", traffic.otherStatus.get() == 0,
        traffic.otherStatus.get() + " other");
    StringBuilder serverFigures = new StringBuilder();
    boolean serverFlat = true;
    boolean measured = false;
    for (List<Long> life : serverRss) {
      if (life.size() >= 2) {
        measured = true;
        long first = life.get(0);
        long max = life.stream().mapToLong(Long::longValue).max().orElse(first);
        long min = life.stream().mapToLong(Long::longValue).min().orElse(first);
        serverFlat &= max <= first * (1 + RSS_TOLERANCE) && min >= first * (1 - RSS_TOLERANCE);
        serverFigures.append(String.format("[%d..%d MiB from %d MiB] ", min / 1024, max / 1024, first / 1024));
      }
    }
    ok &= measured ? criterion("server RSS flat within 10 % after 2 minutes of warm-up", serverFlat, serverFigures.toString().trim())
        : note("server RSS flat: not measured (no server life had two samples after its warm-up; run 6 minutes or more)");
    if (agentRssAtEnd.size() >= 2) {
      List<Long> sorted = agentRssAtEnd.stream().sorted().toList();
      long median = sorted.get(sorted.size() / 2);
      boolean flat = sorted.get(0) >= median * (1 - RSS_TOLERANCE) && sorted.get(sorted.size() - 1) <= median * (1 + RSS_TOLERANCE);
      ok &= criterion("agent RSS flat within 10 % across its lives", flat, String.format(
          "%d lives: %d..%d MiB, median %d MiB", sorted.size(), sorted.get(0) / 1024,
          sorted.get(sorted.size() - 1) / 1024, median / 1024));
    } else {
      note("agent RSS flat: not measured (fewer than two agent lives ended after the warm-up)");
    }
    ok &= criterion("threads outside Jetty's pools back to the idle baseline (+" + slack + ")",
        threadsAfter[0] <= serverIdle + slack && threadsAfter[1] <= agentIdle + slack,
        String.format("server %d (idle %d), agent %d (idle %d)", threadsAfter[0], serverIdle, threadsAfter[1], agentIdle));
    synchronized (traffic.notes) {
      for (String n : traffic.notes) {
        System.out.println("  note: " + n);
      }
    }
    System.out.println(ok ? "soak: PASSED" : "soak: FAILED");
    return ok;
  }

  private static boolean criterion(String what, boolean held, String figures) {
    System.out.printf("  %-6s %s (%s)%n", held ? "held" : "MISSED", what, figures);
    return held;
  }

  private static boolean note(String what) {
    System.out.println("  -      " + what);
    return true;
  }
}
