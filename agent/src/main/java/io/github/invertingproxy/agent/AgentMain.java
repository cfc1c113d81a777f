package io.github.invertingproxy.agent;

import io.github.invertingproxy.agent.credentials.ProxyCredentials;
import io.github.invertingproxy.agent.metrics.AgentMetrics;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.commandline.Flags;
import io.github.invertingproxy.commandline.logging.OutOfMemoryHalt;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;
import java.util.logging.Handler;

/**
 * The agent's command line. Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 on a fatal
 * error, 2 on unusable flags. Run with {@code --help} for the flags.
 */
public final class AgentMain {
  private AgentMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), System.out, System.err));
  }

  /**
   * Runs the agent until it is stopped by a signal, without calling {@code System.exit}.
   *
   * @return the exit status
   */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    AgentOptions options;
    try {
      options = AgentOptions.parse(args, env);
    } catch (Flags.UsageException e) {
      if (e.isHelp()) {
        out.print(e.getMessage());
        out.flush();
        return 0;
      }
      err.println(AgentOptions.PROGRAM + ": " + e.getMessage());
      return 2;
    }
    Handler log = LogLineFormatter.install(options.debug(), err);
    OutOfMemoryHalt.install(AgentOptions.PROGRAM, err);
    try {
      return runAgent(options, err, log);
    } finally {
      // Everything logged reaches ERR before this returns.
      log.flush();
    }
  }

  private static int runAgent(AgentOptions options, PrintStream err, Handler log) {
    try {
      // Fail at once on credentials that cannot be had, rather than on every poll; this also finds
      // Google credentials' source and account for the start-up line.
      options.credentials().authorizationHeader();
    } catch (IOException e) {
      log.flush();
      err.println(AgentOptions.PROGRAM + ": --credentials " + options.credentials() + ": " + e.getMessage());
      closeCredentials(options.credentials());
      return 1;
    }
    AgentMetrics metrics = null;
    try {
      if (options.metricsBind() != null) {
        try {
          metrics = new AgentMetrics(options.metricsBind()).start();
        } catch (IOException e) {
          log.flush();
          err.println(AgentOptions.PROGRAM + ": cannot start: " + e.getMessage());
          return 1;
        }
      }
      ForwardingAgent agent = options.toAgent(metrics == null ? AgentObserver.NONE : metrics);
      try {
        agent.start();
      } catch (RuntimeException e) {
        log.flush();
        err.println(AgentOptions.PROGRAM + ": cannot start: " + e.getMessage());
        return 1;
      }
      TerminationSignals.onTermination(agent::close);
      try {
        agent.awaitStopped();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        agent.close();
      }
      return agent.failed() ? 1 : 0;
    } finally {
      if (metrics != null) {
        metrics.close();
      }
      closeCredentials(options.credentials());
    }
  }

  /** Stops a credential's background refreshing (Google's), if it has any. */
  private static void closeCredentials(ProxyCredentials credentials) {
    if (credentials instanceof java.io.Closeable closeable) {
      try {
        closeable.close();
      } catch (IOException e) {
        // Nothing is left running that matters at exit.
      }
    }
  }
}
