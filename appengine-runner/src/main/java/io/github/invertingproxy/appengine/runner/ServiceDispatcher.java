package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** Sends each request to the service that {@code dispatch.yaml} names for its host and path. */
final class ServiceDispatcher extends Handler.Sequence {
  private final DispatchRules rules;
  private final Map<String, Handler> services;

  ServiceDispatcher(DispatchRules rules, Map<String, Handler> services) {
    super(List.copyOf(services.values()));
    this.rules = requireNonNull(rules, "rules");
    this.services = Map.copyOf(services);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String service = rules.serviceFor(Request.getServerName(request), request.getHttpURI().getPath());
    Handler handler = services.get(service);
    if (handler == null) {
      Response.writeError(request, response, callback, 500,
          "dispatch.yaml routes this request to service \"" + service + "\", which no WAR declares");
      return true;
    }
    return handler.handle(request, response, callback);
  }
}
