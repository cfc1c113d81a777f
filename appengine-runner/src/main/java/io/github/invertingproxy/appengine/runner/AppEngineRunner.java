package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import com.google.appengine.api.users.dev.LocalLoginServlet;
import com.google.appengine.api.users.dev.LocalLogoutServlet;
import com.google.apphosting.api.ApiProxy;
import io.github.invertingproxy.appengine.AppEngineConfig;
import io.github.invertingproxy.appengine.DatastoreBackendRegistry;
import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.commandline.Flags;
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
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The App Engine flavour on one machine, without Google: the three services' WARs (their
 * bootstraps, {@code web.xml} and {@code appengine-web.xml}) in one embedded Jetty ee8, on the App
 * Engine stubs. The main port routes as App Engine does, by host ({@code agent-dot-localhost})
 * and then by {@code dispatch.yaml}; each service also has a port of its own, as on the dev server
 * ({@link #serviceUri}), for clients that cannot resolve {@code *.localhost}. Sign in with the dev server's
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
  private final Map<String, ServerConnector> servicePorts = new LinkedHashMap<>();
  private ApiProxy.Environment startEnvironment;
  private List<ServiceDescriptor> descriptors = List.of();
  private final Map<String, ServiceInstances> serviceInstances = new LinkedHashMap<>();

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
    connector = listener(http, settings.port);
    Map<String, Handler> services = new LinkedHashMap<>();
    Map<Connector, String> ownPorts = new LinkedHashMap<>();
    int next = settings.firstServicePort;
    for (ServiceDescriptor d : descriptors) {
      ServiceInstances running = newInstances(d);
      serviceInstances.put(d.service(), running);
      services.put(d.service(), running);
      ServerConnector own = listener(http, next == 0 ? 0 : next++);
      servicePorts.put(d.service(), own);
      ownPorts.put(own, d.service());
    }
    server.setHandler(new ServiceDispatcher(rules, services, ownPorts));
    server.start();
    this.descriptors = List.copyOf(descriptors);
    LOG.info("App Engine services " + services.keySet() + " (" + settings.instances + " instances each) listening on "
        + uri() + ": " + transportNote());
    return this;
  }

  private ServerConnector listener(HttpConfiguration http, int port) {
    ServerConnector listener = new ServerConnector(server, new HttpConnectionFactory(http));
    listener.setHost(settings.host);
    listener.setPort(port);
    // Longer than any long poll or response wait: App Engine's front end allows minutes.
    listener.setIdleTimeout(5 * 60_000);
    server.addConnector(listener);
    return listener;
  }

  /** The main port's base URL, ending with {@code /}: {@code http://host:port/}, the proxy's host. */
  public URI uri() {
    return URI.create("http://" + settings.host + ":" + connector.getLocalPort() + "/");
  }

  /** The base URL of {@code service}'s own port, ending with {@code /}. */
  public URI serviceUri(String service) {
    ServerConnector own = servicePorts.get(service);
    if (own == null) {
      throw new IllegalArgumentException("no service \"" + service + "\"; the services are " + servicePorts.keySet());
    }
    return URI.create("http://" + settings.host + ":" + own.getLocalPort() + "/");
  }

  /**
   * {@code service}'s URL on the main port by host name, as App Engine names it
   * ({@code http://agent-dot-localhost:8080/}); browsers resolve {@code *.localhost}, the JDK does
   * not (send that Host header to {@link #uri()} instead).
   */
  public URI serviceHostUri(String service) {
    serviceUri(service); // refuses an unknown service
    String host = service.equals(DispatchRules.DEFAULT_SERVICE) ? "localhost" : service + "-dot-localhost";
    return URI.create("http://" + host + ":" + connector.getLocalPort() + "/");
  }

  /** The declared services, in the order of their own ports. */
  public List<String> services() {
    return List.copyOf(servicePorts.keySet());
  }

  /**
   * The running instances of {@code service}, which tell where requests went. Package-private: the
   * runner's own tests read them; an application sees only the services.
   */
  ServiceInstances instances(String service) {
    ServiceInstances running = serviceInstances.get(service);
    if (running == null) {
      throw new IllegalArgumentException("no service \"" + service + "\"; the runner has " + serviceInstances.keySet());
    }
    return running;
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

  /** The service's instances, each a context of its own built from the WAR's descriptors. */
  private ServiceInstances newInstances(ServiceDescriptor d) throws ReflectiveOperationException {
    List<Handler> contexts = new ArrayList<>();
    for (int i = 0; i < settings.instances; i++) {
      contexts.add(context(d, i).get());
    }
    return new ServiceInstances(d.service(), contexts);
  }

  private ServletContextHandler context(ServiceDescriptor d, int instance) throws ReflectiveOperationException {
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.setContextPath("/");
    context.setDisplayName(d.service() + "#" + instance);
    d.contextParameters().forEach(context::setInitParameter);
    settings.parameters.forEach(context::setInitParameter);
    FilterHolder environment = new FilterHolder(new AppEngineEnvironmentFilter(d.service(), instance));
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

  /**
   * The runner serves plain HTTP, and says which services App Engine serves over HTTPS only (their
   * web.xml transport guarantee), which it does not enforce.
   */
  public String transportNote() {
    List<String> httpsOnly = descriptors.stream().filter(d -> d.httpsOnlyPatterns().contains("/*"))
        .map(ServiceDescriptor::service).toList();
    return "plain HTTP here; " + (httpsOnly.isEmpty() ? "no service is HTTPS only when deployed"
        : "deployed, services " + httpsOnly + " take HTTPS only, which this runner does not enforce");
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
    private int firstServicePort;
    private Path dispatchYaml;
    private Path indexYaml;
    private Path datastoreFile;
    private int instances = 1;
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

    /**
     * The services' own ports: {@code default} on this one, then {@code agent} and {@code api} on the
     * next ones; 0 (the default) picks free ports.
     */
    public Builder firstServicePort(int port) {
      if (port < 0 || port > 65533) {
        throw new IllegalArgumentException("first service port " + port + " is outside 0..65533");
      }
      this.firstServicePort = port;
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

    /**
     * How many instances of each service run (1 by default), each with its own bootstrap and
     * in-JVM state; requests take turns over them, as App Engine spreads them over instances.
     */
    public Builder instances(int instances) {
      if (instances < 1 || instances > MAX_INSTANCES) {
        throw new IllegalArgumentException("instances " + instances + " is outside 1.." + MAX_INSTANCES);
      }
      this.instances = instances;
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

  /** More would only use memory: every instance is a full set of the service's objects. */
  static final int MAX_INSTANCES = 20;

  /** The account of the demo agent that {@code make run-appengine} starts. */
  static final String DEMO_AGENT = "demo-agent@localhost";
}
