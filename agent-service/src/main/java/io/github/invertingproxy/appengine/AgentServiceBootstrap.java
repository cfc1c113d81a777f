package io.github.invertingproxy.appengine;

import io.github.invertingproxy.core.observe.ExchangeObserver;
import io.github.invertingproxy.core.agent.AgentEndpointServlet;
import java.time.Clock;
import javax.servlet.ServletContext;
import javax.servlet.ServletContextEvent;
import javax.servlet.ServletContextListener;
import javax.servlet.ServletRegistration;

/** Service {@code agent}: wires the App Engine SPIs into the agents' endpoint at {@code /agent/*}. */
public final class AgentServiceBootstrap implements ServletContextListener {
  private DatastoreExchangeStore store;

  @Override
  public void contextInitialized(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    AppEngineConfig config = AppEngineConfig.from(context::getInitParameter);
    store = new DatastoreExchangeStore(config.exchangeSettings(), Clock.systemUTC());
    ServletRegistration.Dynamic agent = context.addServlet("agent-endpoint", new AgentEndpointServlet(
        new DatastoreBackendRegistry(), store, new AppEngineIdentity(), config.proxySettings(), null,
        ExchangeObserver.NONE));
    agent.setAsyncSupported(true); // idle long polls hold no thread
    agent.addMapping("/agent/*");
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {
    if (store != null) {
      store.close();
    }
  }
}
