package io.github.invertingproxy.appengine;

import com.googlecode.objectify.ObjectifyService;
import java.util.function.Supplier;

/**
 * The Objectify set-up shared by every App Engine class: the entity registrations, and a fresh
 * Objectify context (session cache) around each unit of work, so that no entity read in one
 * request is served stale to a later one on the same thread.
 */
final class Persistence {
  private static volatile boolean registered;

  private Persistence() {}

  /** Registers the entity classes once per class loader; later calls do nothing. */
  static void register() {
    if (registered) {
      return;
    }
    synchronized (Persistence.class) {
      if (!registered) {
        ObjectifyService.register(BackendEntity.class);
        ObjectifyService.register(LivenessEntity.class);
        ObjectifyService.register(LastUsedEntity.class);
        ObjectifyService.register(ExchangeEntity.class);
        ObjectifyService.register(BodyPartEntity.class);
        registered = true;
      }
    }
  }

  /** Runs {@code work} in its own Objectify context, nested contexts included. */
  static <T> T run(Supplier<T> work) {
    register();
    return ObjectifyService.run(work::get);
  }

  /** Opens a context for work that throws checked exceptions; close it with try-with-resources. */
  static com.googlecode.objectify.util.Closeable begin() {
    register();
    return ObjectifyService.begin();
  }

  static void run(Runnable work) {
    run(() -> {
      work.run();
      return null;
    });
  }
}
