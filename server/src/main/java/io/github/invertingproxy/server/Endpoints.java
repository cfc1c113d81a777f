package io.github.invertingproxy.server;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.ProtocolHeaders;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Chooses the endpoint of each request so that none of the server's own endpoints shadows a
 * backend's path: the admin listener serves the admin API and its page alone; on the main listener a
 * request under {@code /agent/} that names a backend in {@code X-Inverting-Proxy-Backend-ID} is an agent
 * call (every agent sends that header on every call, and the user-facing proxy strips it from
 * clients' requests anyway), and every other request, whatever its path, is a client's.
 */
final class Endpoints extends Handler.Sequence {
  static final String AGENT_PREFIX = "/agent/";

  private final Connector adminListener;
  private final Handler admin;
  private final Handler agentCalls;
  private final Handler clients;

  Endpoints(Connector adminListener, Handler admin, Handler agentCalls, Handler clients) {
    super(List.of(admin, agentCalls, clients));
    this.adminListener = requireNonNull(adminListener, "adminListener");
    this.admin = requireNonNull(admin, "admin");
    this.agentCalls = requireNonNull(agentCalls, "agentCalls");
    this.clients = requireNonNull(clients, "clients");
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if (request.getConnectionMetaData().getConnector() == adminListener) {
      return admin.handle(request, response, callback);
    }
    return (isAgentCall(request) ? agentCalls : clients).handle(request, response, callback);
  }

  static boolean isAgentCall(Request request) {
    String path = request.getHttpURI().getPath();
    String backendId = request.getHeaders().get(ProtocolHeaders.BACKEND_ID);
    return path != null && path.startsWith(AGENT_PREFIX) && backendId != null && !backendId.isEmpty();
  }
}
