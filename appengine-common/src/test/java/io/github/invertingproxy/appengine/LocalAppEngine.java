package io.github.invertingproxy.appengine;

import com.google.appengine.tools.development.LocalServerEnvironment;
import com.google.appengine.tools.development.testing.LocalDatastoreServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalMemcacheServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalServiceTestHelper;
import com.google.appengine.tools.development.testing.LocalUserServiceTestConfig;
import com.google.apphosting.api.ApiProxy;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.rules.ExternalResource;

/**
 * The App Engine stubs for one test: Datastore (every write applied at once, and no index
 * auto-generation, checked against the repository's own index.yaml), Memcache, Users and OAuth.
 */
final class LocalAppEngine extends ExternalResource {
  private static final Path INDEX_YAML = Path.of("..", "index.yaml");

  private LocalServiceTestHelper helper;

  @Override
  protected void before() {
    Path appDir = appDirWithIndexYaml();
    helper = new LocalServiceTestHelper(
        new IndexYamlFormat(),
        new LocalDatastoreServiceTestConfig().setApplyAllHighRepJobPolicy().setNoIndexAutoGen(true).setNoStorage(true),
        new LocalMemcacheServiceTestConfig(),
        new LocalUserServiceTestConfig()) {
      @Override
      protected LocalServerEnvironment newLocalServerEnvironment() {
        LocalServerEnvironment base = super.newLocalServerEnvironment();
        return new LocalServerEnvironment() {
          @Override
          public File getAppDir() {
            return appDir.toFile();
          }

          @Override
          public String getAddress() {
            return base.getAddress();
          }

          @Override
          public int getPort() {
            return base.getPort();
          }

          @Override
          public String getHostName() {
            return base.getHostName();
          }

          @Override
          public void waitForServerToStart() throws InterruptedException {
            base.waitForServerToStart();
          }

          @Override
          public boolean enforceApiDeadlines() {
            return false;
          }

          @Override
          public boolean simulateProductionLatencies() {
            return false;
          }
        };
      }
    };
    helper.setUp();
  }

  @Override
  protected void after() {
    helper.tearDown();
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

  private static Path appDirWithIndexYaml() {
    try {
      Path dir = Files.createTempDirectory("appengine-app");
      Files.createDirectories(dir.resolve("WEB-INF"));
      Files.copy(INDEX_YAML, dir.resolve("WEB-INF/index.yaml"), StandardCopyOption.REPLACE_EXISTING);
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare index.yaml for the Datastore stub", e);
    }
  }

  /** Makes the Datastore stub read WEB-INF/index.yaml instead of datastore-indexes.xml. */
  private static final class IndexYamlFormat implements LocalServiceTestConfig {
    @Override
    public void setUp() {
      LocalServiceTestHelper.getApiProxyLocal().setProperty("datastore.index_configuration_format", "YAML");
    }

    @Override
    public void tearDown() {}
  }
}
