package io.github.invertingproxy.appengine;

import com.google.appengine.tools.development.testing.LocalServiceTestHelper;
import com.google.apphosting.api.ApiProxy;
import io.github.invertingproxy.appengine.stubs.LocalStubs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.rules.ExternalResource;

/**
 * The App Engine stubs for one test: Datastore (every write applied at once, and no index
 * auto-generation, checked against the repository's own index.yaml), Memcache, Users and OAuth.
 */
final class LocalAppEngine extends ExternalResource {
  private static final Path INDEX_YAML = Path.of("..", "index.yaml");

  private Path appDir;
  private LocalServiceTestHelper helper;

  @Override
  protected void before() throws IOException {
    appDir = LocalStubs.appDir(Files.readAllBytes(INDEX_YAML));
    helper = LocalStubs.helper(appDir, null);
    helper.setUp();
  }

  @Override
  protected void after() {
    helper.tearDown();
    try {
      LocalStubs.deleteAppDir(appDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + appDir, e);
    }
  }

  /** Runs {@code work} on another thread under this test's App Engine environment. */
  static Thread inBackground(Runnable work) {
    ApiProxy.Environment environment = ApiProxy.getCurrentEnvironment();
    Thread t = new Thread(() -> {
      ApiProxy.setEnvironmentForCurrentThread(environment);
      try {
        work.run();
      } finally {
        ApiProxy.clearEnvironmentForCurrentThread();
      }
    });
    t.start();
    return t;
  }
}
