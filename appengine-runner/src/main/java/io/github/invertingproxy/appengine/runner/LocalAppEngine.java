package io.github.invertingproxy.appengine.runner;

import com.google.appengine.tools.development.testing.LocalServiceTestHelper;
import com.google.apphosting.api.ApiProxy;
import io.github.invertingproxy.appengine.stubs.LocalStubs;
import java.io.IOException;
import java.nio.file.Path;

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
    appDir = LocalStubs.appDir(indexYaml);
    helper = LocalStubs.helper(appDir, datastoreFile);
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
    LocalStubs.deleteAppDir(appDir);
  }
}
