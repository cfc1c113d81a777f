package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Sends each request to its service as App Engine does: a service's own port goes to that service;
 * on the main port, a host {@code SERVICE-dot-…} (or {@code VERSION-dot-SERVICE-dot-…}) that names
 * a declared service goes to it, then the rules of {@code dispatch.yaml} apply, and anything else
 * goes to {@code default}.
 */
final class ServiceDispatcher extends Handler.Sequence {
  private static final String DOT = "-dot-";

  private final DispatchRules rules;
  private final Map<String, Handler> services;
  private final Map<Connector, String> ownPorts;

  /** @param ownPorts the listeners that each serve one service alone */
  ServiceDispatcher(DispatchRules rules, Map<String, Handler> services, Map<Connector, String> ownPorts) {
    super(List.copyOf(services.values()));
    this.rules = requireNonNull(rules, "rules");
    this.services = Map.copyOf(services);
    this.ownPorts = Map.copyOf(ownPorts);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String service = ownPorts.get(request.getConnectionMetaData().getConnector());
    if (service == null) {
      service = serviceFor(Request.getServerName(request), request.getHttpURI().getPath());
    }
    Handler handler = services.get(service);
    if (handler == null) {
      Response.writeError(request, response, callback, 500,
          "dispatch.yaml routes this request to service \"" + service + "\", which no WAR declares");
      return true;
    }
    return handler.handle(request, response, callback);
  }

  /** The service that answers {@code path} on the main port for {@code host} (without port). */
  String serviceFor(String host, String path) {
    String named = serviceNamedBy(host);
    return named != null ? named : rules.serviceFor(host, path);
  }

  /**
   * The declared service that a {@code …-dot-SERVICE-dot-PROJECT…} host names: the label right
   * before the project's; null when the host names none.
   */
  private String serviceNamedBy(String host) {
    String[] labels = host.toLowerCase(Locale.ROOT).split(DOT, -1);
    if (labels.length < 2) {
      return null;
    }
    String service = labels[labels.length - 2];
    return services.containsKey(service) ? service : null;
  }
}
