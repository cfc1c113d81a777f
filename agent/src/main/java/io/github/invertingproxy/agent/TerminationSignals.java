package io.github.invertingproxy.agent;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a graceful shutdown on SIGTERM or SIGINT and lets the program exit with status 0 afterwards,
 * as a container runtime expects of a clean stop. A second signal exits at once.
 *
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported) through reflection, which keeps the build
 * free of proprietary-API warnings; where it is missing, a shutdown hook does the same work (the
 * exit status is then the JVM's 143).
 */
final class TerminationSignals {
  private TerminationSignals() {}

  static void onTermination(Runnable shutdown) {
    AtomicBoolean received = new AtomicBoolean();
    Runnable handler = () -> {
      if (received.getAndSet(true)) {
        Runtime.getRuntime().halt(1);
      }
      shutdown.run();
    };
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> signalHandler = Class.forName("sun.misc.SignalHandler");
      Object proxy = Proxy.newProxyInstance(TerminationSignals.class.getClassLoader(),
          new Class<?>[] {signalHandler}, (self, method, args) -> invoke(self, method, args, handler));
      Method handle = signal.getMethod("handle", signal, signalHandler);
      for (String name : new String[] {"TERM", "INT"}) {
        handle.invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
      }
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "inverting-proxy-agent-shutdown"));
    }
  }

  private static Object invoke(Object self, Method method, Object[] args, Runnable handler) {
    switch (method.getName()) {
      case "handle":
        handler.run();
        return null;
      case "equals":
        return self == args[0];
      case "hashCode":
        return System.identityHashCode(self);
      case "toString":
        return "inverting-proxy agent termination handler";
      default:
        return null;
    }
  }
}
