package io.github.invertingproxy.appengine.runner;

import io.github.invertingproxy.appengine.AppEngineConfig;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.commandline.Flags;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The runner's command line: flags to an {@link AppEngineRunner}, then a banner with its URLs. */
public final class RunnerMain {
  private RunnerMain() {}

  /** {@code java -jar inverting-proxy-appengine-runner.jar --help} lists the flags. */
  // Stays whole: the flag table, read just after it is declared, is one list that --help prints in order.
  public static void main(String[] args) throws Exception {
    Flags flags = new Flags("inverting-proxy-appengine-runner",
        "Runs the App Engine flavour (services default, agent and api) locally on the App Engine stubs.",
        System.getenv());
    Flags.Flag<String> host = flags.string("host", "127.0.0.1", "address to listen on");
    Flags.Flag<Integer> port = flags.integer("port", 8080,
        "port to listen on, routed by host (agent-dot-localhost) and dispatch.yaml (0 picks a free one)");
    Flags.Flag<Integer> servicePort = flags.integer("first-service-port", 0,
        "the services' own ports: default on this one, agent and api on the next two (0 picks free ones)");
    Flags.Flag<Integer> instanceCount = flags.integer("instances", 1,
        "instances of each service; requests take turns over them (1.." + AppEngineRunner.MAX_INSTANCES + ")");
    Flags.Flag<String> dispatch = flags.string("dispatch", "", "dispatch.yaml to route by (default: the bundled copy)");
    Flags.Flag<String> index = flags.string("index", "", "index.yaml for the Datastore stub (default: the bundled copy)");
    Flags.Flag<String> datastore = flags.string("datastore-file", "", "keep Datastore in this file (default: in memory)");
    Flags.Flag<String> tokens = flags.string("oauth-tokens", "",
        "bearer tokens OAuth accepts, as TOKEN=EMAIL or TOKEN=EMAIL:admin, comma-separated");
    Flags.Flag<String> demoToken = flags.string("demo-agent-token", "",
        "register backend \"demo\" (allUsers, path /) served by demo-agent@localhost, whose token this is");
    Map<String, Flags.Flag<String>> params = new LinkedHashMap<>();
    params.put(AppEngineConfig.RESPONSE_TIMEOUT, flags.string("response-timeout", "", "how long a client waits for a response"));
    params.put(AppEngineConfig.PENDING_TIMEOUT, flags.string("pending-timeout", "", "how long agent/pending is held"));
    params.put(AppEngineConfig.EXCHANGE_MAX_AGE, flags.string("exchange-max-age", "", "the cron deletes older exchanges"));
    params.put(AppEngineConfig.BACKEND_EXPIRY, flags.string("backend-expiry", "", "the cron deletes backends unseen this long"));
    params.put(AppEngineConfig.POLL_MAX, flags.string("poll-max", "", "longest pause between two Memcache checks"));
    PrintStream out = System.out;
    AppEngineRunner.Builder b = AppEngineRunner.builder();
    try {
      flags.parse(args);
      b.host(host.get()).port(port.get()).firstServicePort(servicePort.get());
      try {
        b.instances(instanceCount.get());
      } catch (IllegalArgumentException e) {
        throw new Flags.UsageException("--instances: " + e.getMessage(), false);
      }
      if (!dispatch.get().isEmpty()) {
        b.dispatchYaml(Path.of(dispatch.get()));
      }
      if (!index.get().isEmpty()) {
        b.indexYaml(Path.of(index.get()));
      }
      if (!datastore.get().isEmpty()) {
        b.datastoreFile(Path.of(datastore.get()));
      }
      oauthTokens(b, tokens.get());
      if (!demoToken.get().isEmpty()) {
        b.oauthToken(demoToken.get(), AppEngineRunner.DEMO_AGENT, false);
      }
      params.forEach((name, flag) -> {
        if (!flag.get().isEmpty()) {
          b.parameter(name, flag.get());
        }
      });
    } catch (Flags.UsageException e) {
      (e.isHelp() ? out : System.err).println(e.getMessage());
      System.exit(e.isHelp() ? 0 : 2);
      return;
    }
    AppEngineRunner runner = b.build();
    try {
      runner.start();
    } catch (IllegalStateException | IllegalArgumentException | IOException e) {
      System.err.println("inverting-proxy-appengine-runner: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        // exiting anyway
      }
    }));
    if (!demoToken.get().isEmpty()) {
      runner.addBackendIfAbsent(BackendRecord.builder().id("demo").endUser(BackendRecord.ALL_USERS)
          .backendUser(AppEngineRunner.DEMO_AGENT).pathPrefixes("/").build());
    }
    banner(out, runner, instanceCount.get());
    runner.join();
  }

  /** {@code --oauth-tokens}: TOKEN=EMAIL or TOKEN=EMAIL:admin, comma-separated. */
  private static void oauthTokens(AppEngineRunner.Builder b, String tokens) throws Flags.UsageException {
    for (String entry : tokens.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new Flags.UsageException("--oauth-tokens entry \"" + entry + "\" is not TOKEN=EMAIL[:admin]", false);
      }
      String account = entry.substring(eq + 1).trim();
      boolean admin = account.endsWith(":admin");
      b.oauthToken(entry.substring(0, eq).trim(), admin ? account.substring(0, account.length() - 6) : account, admin);
    }
  }

  /** Where the running runner listens, and how to sign in. */
  private static void banner(PrintStream out, AppEngineRunner runner, int instances) {
    out.println("App Engine flavour listening on " + runner.uri() + " (services default, agent, api"
        + (instances > 1 ? ", " + instances + " instances each)" : ")"));
    for (String service : runner.services()) {
      out.println("Service " + service + " listening on " + runner.serviceUri(service) + " and on "
          + runner.serviceHostUri(service));
    }
    out.println("  (" + runner.transportNote() + ")");
    out.println("Sign in: open " + runner.uri() + " in a browser (you are sent to /_ah/login), or send the cookie");
    out.println("  dev_appserver_login=you@example.com:false:1   (end user; use :true: for an administrator)");
    out.println("Admin page: " + runner.serviceUri("api") + "admin/   (as an administrator)");
  }

}
