package io.github.invertingproxy.server;

import io.github.invertingproxy.core.ProxySettings;
import io.github.invertingproxy.core.admin.AdminApiServlet;
import io.github.invertingproxy.core.admin.AdminPageServlet;
import io.github.invertingproxy.core.admin.AdminRequestGuard;
import io.github.invertingproxy.core.agent.AgentEndpointServlet;
import io.github.invertingproxy.core.memory.InMemoryBackendActivity;
import io.github.invertingproxy.core.memory.InMemoryBackendRegistry;
import io.github.invertingproxy.core.memory.InMemoryExchangeStore;
import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.proxy.UserProxyServlet;
import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.server.websocket.JettyWebSocketGateway;
import java.time.Clock;
import java.util.EnumSet;
import javax.servlet.DispatcherType;
import org.eclipse.jetty.ee8.servlet.FilterHolder;
import org.eclipse.jetty.ee8.servlet.ServletContextHandler;
import org.eclipse.jetty.ee8.servlet.ServletHolder;
import org.eclipse.jetty.ee8.servlet.ServletMapping;
import org.eclipse.jetty.server.Connector;

/**
 * What serves each of the stand-alone server's {@link Endpoints}: the agent endpoint, the admin API
 * and its page, and the user-facing proxy, each in a servlet context of its own that limits the
 * number of header fields.
 */
final class EndpointServlets {
  private EndpointServlets() {}

  static Endpoints create(Connector adminListener, InMemoryBackendRegistry registry, InMemoryExchangeStore store,
      Identity identity, ProxySettings settings, Clock clock, JettyWebSocketGateway webSockets,
      ExchangeObserver observer) {
    // The agent calls' context sits at /agent, so that the servlet sees the call as its path info.
    ServletContextHandler agentCalls = context("/agent", settings);
    ServletHolder agent = new ServletHolder("agent", new AgentEndpointServlet(registry, store, identity, settings, webSockets, observer));
    agent.setAsyncSupported(true);
    agentCalls.addServlet(agent, "/*");
    ServletContextHandler admin = context("/", settings);
    admin.addServlet(new ServletHolder("admin",
        new AdminApiServlet(registry, identity, new InMemoryBackendActivity(registry, store))), "/api/backends/*");
    admin.addServlet(new ServletHolder("admin-page", new AdminPageServlet(identity)), "/admin/*");
    ServletMapping root = new ServletMapping();
    root.setServletName("admin-page");
    root.setPathSpec(""); // the root alone, which sends a browser on to /admin/
    admin.getServletHandler().addServletMapping(root);
    // Pages in an administrator's browser (a backend's among them) may not drive the admin API.
    admin.addFilter(new FilterHolder(new AdminRequestGuard()), "/api/backends/*", EnumSet.of(DispatcherType.REQUEST));
    ServletContextHandler clients = context("/", settings);
    // Asynchronous: a client whose request has no body, or a small one, waits for its response without a thread.
    ServletHolder proxy = new ServletHolder("proxy", new UserProxyServlet(registry, store, identity, settings, clock, webSockets, observer));
    proxy.setAsyncSupported(true);
    clients.addServlet(proxy, "/*");
    return new Endpoints(adminListener, admin.get(), agentCalls.get(), clients.get());
  }

  private static ServletContextHandler context(String path, ProxySettings settings) {
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath(path);
    FilterHolder headerCount = new FilterHolder(new HeaderCountLimit(settings.messageLimits().maxHeaderCount()));
    headerCount.setAsyncSupported(true);
    context.addFilter(headerCount, "/*", EnumSet.of(DispatcherType.REQUEST));
    return context;
  }
}
