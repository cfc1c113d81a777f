package io.github.invertingproxy.appengine.stubs;

import static java.util.Objects.requireNonNull;

import com.google.appengine.tools.development.LocalServerEnvironment;
import com.google.appengine.tools.development.testing.LocalDatastoreServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalMemcacheServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalServiceTestConfig;
import com.google.appengine.tools.development.testing.LocalServiceTestHelper;
import com.google.appengine.tools.development.testing.LocalUserServiceTestConfig;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The App Engine stubs as this project runs them, in tests and in the local runner alike: Datastore
 * with every write applied at once and composite indexes checked against our {@code index.yaml}
 * (never generated, so a query missing its index fails here as it would in production), Memcache,
 * and Users.
 */
public final class LocalStubs {
  private LocalStubs() {}

  /** A fresh application directory holding {@code WEB-INF/index.yaml}, where the Datastore stub reads it. */
  public static Path appDir(byte[] indexYaml) throws IOException {
    requireNonNull(indexYaml, "indexYaml");
    Path dir = Files.createTempDirectory("inverting-proxy-appengine");
    Files.createDirectories(dir.resolve("WEB-INF"));
    Files.write(dir.resolve("WEB-INF/index.yaml"), indexYaml);
    return dir;
  }

  /** Removes a directory made by {@link #appDir}, once the stubs that read it are torn down. */
  public static void deleteAppDir(Path appDir) throws IOException {
    try (Stream<Path> files = Files.walk(appDir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * The helper for {@code appDir} (see {@link #appDir}); call its {@code setUp()} to install the stubs.
   *
   * @param datastoreFile where Datastore keeps its contents across restarts, or null for memory only
   */
  public static LocalServiceTestHelper helper(Path appDir, Path datastoreFile) {
    File dir = requireNonNull(appDir, "appDir").toFile();
    LocalDatastoreServiceTestConfig datastore = new LocalDatastoreServiceTestConfig()
        .setApplyAllHighRepJobPolicy().setNoIndexAutoGen(true).setNoStorage(datastoreFile == null);
    if (datastoreFile != null) {
      datastore.setBackingStoreLocation(datastoreFile.toAbsolutePath().toString());
    }
    return new LocalServiceTestHelper(new IndexYamlFormat(), datastore, new IndexFileCaching(),
        new LocalMemcacheServiceTestConfig(), new LocalUserServiceTestConfig()) {
      @Override
      protected LocalServerEnvironment newLocalServerEnvironment() {
        return new AppDirEnvironment(super.newLocalServerEnvironment(), dir);
      }
    };
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

  /** Starts the Datastore stub (configured by the config before this one) and gives it {@link IndexFileCache}. */
  private static final class IndexFileCaching implements LocalServiceTestConfig {
    @Override
    public void setUp() {
      LocalDatastoreServiceTestConfig.getLocalDatastoreService();
      IndexFileCache.install();
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
