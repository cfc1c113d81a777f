package io.github.invertingproxy.appengine;

import io.github.invertingproxy.core.admin.AdminApiServlet;
import io.github.invertingproxy.core.admin.AdminPageServlet;
import io.github.invertingproxy.core.admin.AdminRequestGuard;
import java.time.Clock;
import java.util.EnumSet;
import javax.servlet.DispatcherType;
import javax.servlet.ServletContext;
import javax.servlet.ServletContextEvent;
import javax.servlet.ServletContextListener;

/**
 * Service {@code api}: the admin API at {@code /api/backends}, its page at {@code /admin/}, and the
 * cleanup cron at {@code /cron/delete}.
 */
public final class AdminApiBootstrap implements ServletContextListener {
  @Override
  public void contextInitialized(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    AppEngineConfig config = AppEngineConfig.from(context::getInitParameter);
    DatastoreBackendRegistry registry = new DatastoreBackendRegistry();
    AppEngineIdentity identity = new AppEngineIdentity();
    context.addServlet("admin-api", new AdminApiServlet(registry, identity, registry))
        .addMapping("/api/backends", "/api/backends/*");
    // "" is the root alone, which sends a browser on to the page at /admin/.
    context.addServlet("admin-page", new AdminPageServlet(identity)).addMapping("/admin/*", "");
    // Pages in an administrator's browser (a backend's on the proxy's host among them) may not drive it.
    context.addFilter("admin-request-guard", new AdminRequestGuard())
        .addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), false, "admin-api");
    context.addServlet("cleanup-cron", new CleanupCronServlet(
        new ExchangeCleanup(config.cleanupSettings(), registry, Clock.systemUTC()), identity))
        .addMapping("/cron/delete");
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {}
}
