package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import com.google.appengine.api.users.dev.LocalLoginServlet;
import com.google.appengine.api.users.dev.LocalLogoutServlet;
import com.google.apphosting.api.ApiProxy;
import io.github.invertingproxy.appengine.AppEngineConfig;
import io.github.invertingproxy.appengine.DatastoreBackendRegistry;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.flags.Flags;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.EventListener;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import javax.servlet.DispatcherType;
import org.eclipse.jetty.ee8.servlet.FilterHolder;
import org.eclipse.jetty.ee8.servlet.ServletContextHandler;
import org.eclipse.jetty.ee8.servlet.ServletHolder;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The App Engine flavour on one machine, without Google: the three services' WARs (their
 * bootstraps, {@code web.xml} and {@code appengine-web.xml}) in one embedded Jetty ee8, routed by
 * {@code dispatch.yaml}, on the App Engine stubs. Sign in with the dev server's
 * {@code dev_appserver_login} cookie (or its page at {@code /_ah/login}); agents and API clients
 * authenticate with bearer tokens mapped to accounts by {@link Builder#oauthToken}.
 */
public final class AppEngineRunner implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AppEngineRunner.class.getName());
  /** The service WAR modules, as bundled in the runner jar. */
  static final List<String> MODULES = List.of("proxy-service", "agent-service", "admin-api-service");

  private final Builder settings;
  private LocalAppEngine appEngine;
  private Server server;
  private ServerConnector connector;
  private ApiProxy.Environment startEnvironment;

  private AppEngineRunner(Builder b) {
    this.settings = b;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the stubs and the server; returns once it listens.
   *
   * @throws IllegalStateException when dispatch.yaml routes to a service that no WAR declares
   */
  public AppEngineRunner start() throws Exception {
    DispatchRules rules;
    try (InputStream in = open(settings.dispatchYaml, "dispatch.yaml")) {
      rules = DispatchRules.parse(in);
    }
    byte[] indexYaml;
    try (InputStream in = open(settings.indexYaml, "index.yaml")) {
      indexYaml = in.readAllBytes();
    }
    List<ServiceDescriptor> descriptors = new ArrayList<>();
    for (String module : MODULES) {
      descriptors.add(ServiceDescriptor.bundled(module));
    }
    checkEveryRouteHasAService(rules, descriptors);

    appEngine = new LocalAppEngine(indexYaml, settings.datastoreFile);
    startEnvironment = ApiProxy.getCurrentEnvironment();
    settings.tokens.forEach((token, account) -> appEngine.oauth().put(token, account));

    QueuedThreadPool threads = new QueuedThreadPool(200, 8);
    threads.setName("appengine-runner");
    server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    // The relayed response carries the backend's own Date and Server headers; add none of ours.
    http.setSendDateHeader(false);
    http.setSendServerVersion(false);
    // Targets reach the services undecoded, so that the proxy's own rule (RequestTarget) decides, as it
    // must on App Engine, whose front end and container are not ours to configure.
    http.setUriCompliance(UriCompliance.UNSAFE);
    connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost(settings.host);
    connector.setPort(settings.port);
    // Longer than any long poll or response wait: App Engine's front end allows minutes.
    connector.setIdleTimeout(5 * 60_000);
    server.addConnector(connector);
    Map<String, Handler> services = new LinkedHashMap<>();
    for (ServiceDescriptor d : descriptors) {
      services.put(d.service(), context(d).get());
    }
    server.setHandler(new ServiceDispatcher(rules, services));
    server.start();
    LOG.info("App Engine services " + services.keySet() + " listening on " + uri());
    return this;
  }

  /** The base URL, ending with {@code /}: {@code http://host:port/}. */
  public URI uri() {
    return URI.create("http://" + settings.host + ":" + connector.getLocalPort() + "/");
  }

  /** Maps a bearer token to an account from now on, for OAuth. */
  public void oauthToken(String token, String email, boolean admin) {
    appEngine.oauth().put(token, new OAuthAccounts.Account(email, admin));
  }

  /** Adds a backend record directly in Datastore, unless one with its id exists; true when added. */
  public boolean addBackendIfAbsent(BackendRecord record) {
    return inEnvironment(() -> {
      DatastoreBackendRegistry registry = new DatastoreBackendRegistry();
      if (registry.get(record.id()).isPresent()) {
        return false;
      }
      registry.add(record);
      return true;
    });
  }

  /** Runs {@code work} on this thread under the runner's App Engine environment (API calls need one). */
  public <T> T inEnvironment(java.util.function.Supplier<T> work) {
    ApiProxy.Environment previous = ApiProxy.getCurrentEnvironment();
    ApiProxy.setEnvironmentForCurrentThread(startEnvironment);
    try {
      return work.get();
    } finally {
      if (previous == null) {
        ApiProxy.clearEnvironmentForCurrentThread();
      } else {
        ApiProxy.setEnvironmentForCurrentThread(previous);
      }
    }
  }

  public void join() throws InterruptedException {
    server.join();
  }

  @Override
  public void close() throws Exception {
    try {
      if (server != null) {
        server.stop();
      }
    } finally {
      if (appEngine != null) {
        appEngine.close();
      }
    }
  }

  private ServletContextHandler context(ServiceDescriptor d) throws ReflectiveOperationException {
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.setContextPath("/");
    context.setDisplayName(d.service());
    d.contextParameters().forEach(context::setInitParameter);
    settings.parameters.forEach(context::setInitParameter);
    FilterHolder environment = new FilterHolder(new AppEngineEnvironmentFilter(d.service()));
    environment.setAsyncSupported(true);
    context.addFilter(environment, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    if (d.service().equals(DispatchRules.DEFAULT_SERVICE)) {
      // The dev server's sign-in page, where UserService.createLoginURL sends browsers.
      context.addServlet(new ServletHolder(new LocalLoginServlet()), "/_ah/login");
      context.addServlet(new ServletHolder(new LocalLogoutServlet()), "/_ah/logout");
    }
    for (String listener : d.listenerClasses()) {
      context.addEventListener((EventListener) Class.forName(listener).getDeclaredConstructor().newInstance());
    }
    return context;
  }

  private static void checkEveryRouteHasAService(DispatchRules rules, List<ServiceDescriptor> descriptors) {
    List<String> declared = descriptors.stream().map(ServiceDescriptor::service).toList();
    if (!declared.contains(DispatchRules.DEFAULT_SERVICE)) {
      throw new IllegalStateException("no WAR declares the service \"default\" (appengine-web.xml <service>)");
    }
    for (DispatchRules.Rule r : rules.rules()) {
      if (!declared.contains(r.service())) {
        throw new IllegalStateException("dispatch.yaml routes " + r.url() + " to service \"" + r.service()
            + "\", but the WARs declare only " + declared);
      }
    }
  }

  private static InputStream open(Path file, String bundled) throws IOException {
    if (file != null) {
      return Files.newInputStream(file);
    }
    InputStream in = AppEngineRunner.class.getResourceAsStream("/appengine/" + bundled);
    if (in == null) {
      throw new IOException("the runner jar lacks /appengine/" + bundled + "; rebuild it with mvn install");
    }
    return in;
  }

  /** How to run; every setting has a default. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 8080;
    private Path dispatchYaml;
    private Path indexYaml;
    private Path datastoreFile;
    private final Map<String, OAuthAccounts.Account> tokens = new LinkedHashMap<>();
    private final Map<String, String> parameters = new LinkedHashMap<>();

    private Builder() {}

    public Builder host(String host) {
      this.host = requireNonNull(host, "host");
      return this;
    }

    /** 0 picks a free port. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is outside 0..65535");
      }
      this.port = port;
      return this;
    }

    /** The dispatch.yaml to route by; by default the copy bundled at build time. */
    public Builder dispatchYaml(Path file) {
      this.dispatchYaml = file;
      return this;
    }

    /** The index.yaml the Datastore stub checks queries against; by default the bundled copy. */
    public Builder indexYaml(Path file) {
      this.indexYaml = file;
      return this;
    }

    /** Keeps Datastore's contents in this file across runs; in memory by default. */
    public Builder datastoreFile(Path file) {
      this.datastoreFile = file;
      return this;
    }

    /** A bearer token that OAuth accepts as {@code email}; any other token is refused. */
    public Builder oauthToken(String token, String email, boolean admin) {
      tokens.put(requireNonNull(token, "token"), new OAuthAccounts.Account(email, admin));
      return this;
    }

    /** A context parameter for every service ({@link AppEngineConfig}), as web.xml would set it. */
    public Builder parameter(String name, String value) {
      parameters.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
      return this;
    }

    public AppEngineRunner build() {
      return new AppEngineRunner(this);
    }
  }

  /** {@code java -jar inverting-proxy-appengine-runner.jar --help} lists the flags. */
  public static void main(String[] args) throws Exception {
    Flags flags = new Flags("inverting-proxy-appengine-runner",
        "Runs the App Engine flavour (services default, agent and api) locally on the App Engine stubs.",
        System.getenv());
    Flags.Flag<String> host = flags.string("host", "127.0.0.1", "address to listen on");
    Flags.Flag<Integer> port = flags.integer("port", 8080, "port to listen on (0 picks a free one)");
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
    Builder b = builder();
    try {
      flags.parse(args);
      b.host(host.get()).port(port.get());
      if (!dispatch.get().isEmpty()) {
        b.dispatchYaml(Path.of(dispatch.get()));
      }
      if (!index.get().isEmpty()) {
        b.indexYaml(Path.of(index.get()));
      }
      if (!datastore.get().isEmpty()) {
        b.datastoreFile(Path.of(datastore.get()));
      }
      for (String entry : tokens.get().split(",")) {
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
      if (!demoToken.get().isEmpty()) {
        b.oauthToken(demoToken.get(), DEMO_AGENT, false);
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
          .backendUser(DEMO_AGENT).pathPrefixes("/").build());
    }
    out.println("App Engine flavour listening on " + runner.uri() + " (services default, agent, api)");
    out.println("Sign in: open " + runner.uri() + " in a browser (you are sent to /_ah/login), or send the cookie");
    out.println("  dev_appserver_login=you@example.com:false:1   (end user; use :true: for an administrator)");
    runner.join();
  }

  /** The account of the demo agent that {@code make run-appengine} starts. */
  static final String DEMO_AGENT = "demo-agent@localhost";
}
