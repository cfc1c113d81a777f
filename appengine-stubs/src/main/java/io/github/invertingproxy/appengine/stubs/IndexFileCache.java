package io.github.invertingproxy.appengine.stubs;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Makes the Datastore stub read {@code index.yaml} once instead of on every write.
 *
 * <p>The stub's composite index manager asks its index file manager to read and parse the index
 * file for every put and commit (to count index writes), which was 13 % of the local runner's CPU
 * under load. This wraps that file manager so that it reads the file once, and again only after the
 * application directory changes or the stub writes the file itself; it changes nothing else. It
 * reaches into the stub's internals (version 2.0.39), so when they are not as expected it leaves
 * the stub as it is and says so in one line: the stub then works as before, only slower.
 */
final class IndexFileCache {
  private static final Logger LOG = Logger.getLogger(IndexFileCache.class.getName());
  private static final String MANAGER = "com.google.appengine.api.datastore.dev.LocalCompositeIndexManager";
  /** Calls after which the file may read differently. */
  private static final Set<String> INVALIDATING = Set.of("write", "setAppDir", "setClock");

  private IndexFileCache() {}

  /** Wraps the current index manager's file manager, unless it is wrapped already. */
  static void install() {
    try {
      Class<?> manager = Class.forName(MANAGER);
      Method getInstance = manager.getMethod("getInstance"); // public, in a package-private class
      getInstance.setAccessible(true);
      Object instance = getInstance.invoke(null);
      Field field = manager.getDeclaredField("fileManager");
      field.setAccessible(true);
      Object files = field.get(instance);
      if (files == null || Proxy.isProxyClass(files.getClass())) {
        return;
      }
      Class<?> type = field.getType();
      field.set(instance, Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, new Cached(files)));
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warning("the Datastore stub re-reads index.yaml on every write (its internals are not as expected: "
          + e + ")");
    }
  }

  private static final class Cached implements java.lang.reflect.InvocationHandler {
    private final Object files;
    private Object read;

    Cached(Object files) {
      this.files = files;
    }

    @Override
    public synchronized Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getName().equals("read") && method.getParameterCount() == 0) {
        if (read == null) {
          read = call(method, args);
        }
        return read;
      }
      if (INVALIDATING.contains(method.getName())) {
        read = null;
      }
      return call(method, args);
    }

    private Object call(Method method, Object[] args) throws Throwable {
      try {
        method.setAccessible(true);
        return method.invoke(files, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }
}
