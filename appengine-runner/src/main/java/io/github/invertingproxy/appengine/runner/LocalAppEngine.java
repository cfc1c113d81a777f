package io.github.invertingproxy.appengine.runner;

import com.google.appengine.tools.development.LocalServerEnvironment;
import com.google.appengine.tools.development.testing.LocalDatastoreServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalMemcacheServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalServiceTestHelper;
import com.google.appengine.tools.development.testing.LocalUserServiceTestConfig;
import com.google.apphosting.api.ApiProxy;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The App Engine services of the local runner, in this process: Datastore (writes applied at once,
 * as Firestore in Datastore mode is strongly consistent; composite indexes checked against
 * index.yaml, never generated), Memcache, Users, and OAuth per bearer token ({@link OAuthAccounts}).
 * One per JVM: the stubs are global.
 */
final class LocalAppEngine implements AutoCloseable {
  static final String APP_ID = "inverting-proxy-local";

  private final Path appDir;
  private final LocalServiceTestHelper helper;
  private final ApiProxy.Delegate<?> stubs;
  private final OAuthAccounts oauth;

  /** @param datastoreFile where Datastore persists its contents, or null to keep them in memory */
  @SuppressWarnings("unchecked")
  LocalAppEngine(byte[] indexYaml, Path datastoreFile) throws IOException {
    appDir = Files.createTempDirectory("inverting-proxy-appengine");
    Files.createDirectories(appDir.resolve("WEB-INF"));
    Files.write(appDir.resolve("WEB-INF/index.yaml"), indexYaml);
    LocalDatastoreServiceTestConfig datastore = new LocalDatastoreServiceTestConfig()
        .setApplyAllHighRepJobPolicy().setNoIndexAutoGen(true).setNoStorage(datastoreFile == null);
    if (datastoreFile != null) {
      datastore.setBackingStoreLocation(datastoreFile.toAbsolutePath().toString());
    }
    File dir = appDir.toFile();
    helper = new LocalServiceTestHelper(new IndexYamlFormat(), datastore, new LocalMemcacheServiceTestConfig(),
        new LocalUserServiceTestConfig()) {
      @Override
      protected LocalServerEnvironment newLocalServerEnvironment() {
        return new AppDirEnvironment(super.newLocalServerEnvironment(), dir);
      }
    };
    helper.setEnvAppId(APP_ID);
    helper.setUp();
    stubs = ApiProxy.getDelegate();
    oauth = new OAuthAccounts((ApiProxy.Delegate<ApiProxy.Environment>) stubs);
    ApiProxy.setDelegate(oauth);
  }

  OAuthAccounts oauth() {
    return oauth;
  }

  @Override
  public void close() throws IOException {
    ApiProxy.setDelegate(stubs);
    helper.tearDown();
    try (Stream<Path> files = Files.walk(appDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Makes the Datastore stub read WEB-INF/index.yaml, the format of our root index.yaml. */
  private static final class IndexYamlFormat implements LocalServiceTestConfig {
    @Override
    public void setUp() {
      LocalServiceTestHelper.getApiProxyLocal().setProperty("datastore.index_configuration_format", "YAML");
    }

    @Override
    public void tearDown() {}
  }

  /** The stubs' server environment with our application directory, where index.yaml lies. */
  private static final class AppDirEnvironment implements LocalServerEnvironment {
    private final LocalServerEnvironment base;
    private final File appDir;

    AppDirEnvironment(LocalServerEnvironment base, File appDir) {
      this.base = base;
      this.appDir = appDir;
    }

    @Override
    public File getAppDir() {
      return appDir;
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
  }
}
