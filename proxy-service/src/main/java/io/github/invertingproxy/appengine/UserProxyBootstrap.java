package io.github.invertingproxy.appengine;

import io.github.invertingproxy.core.ExchangeLog;
import io.github.invertingproxy.core.proxy.UserProxyServlet;
import java.time.Clock;
import javax.servlet.ServletContext;
import javax.servlet.ServletContextEvent;
import javax.servlet.ServletContextListener;
import javax.servlet.ServletRegistration;

/** Service {@code default}: wires the App Engine SPIs into the user-facing proxy, which serves every path. */
public final class UserProxyBootstrap implements ServletContextListener {
  private DatastoreExchangeStore store;

  @Override
  public void contextInitialized(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    AppEngineConfig config = AppEngineConfig.from(context::getInitParameter);
    store = new DatastoreExchangeStore(config.exchangeSettings(), Clock.systemUTC());
    // The access log's lines go through java.util.logging to Cloud Logging; no metrics here.
    ServletRegistration.Dynamic proxy = context.addServlet("user-proxy", new UserProxyServlet(
        new DatastoreBackendRegistry(), store, new AppEngineIdentity(), config.proxySettings(), Clock.systemUTC(),
        null, new ExchangeLog()));
    proxy.addMapping("/");
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {
    if (store != null) {
      store.close();
    }
  }
}
