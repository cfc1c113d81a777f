package io.github.invertingproxy.appengine;

import static com.googlecode.objectify.ObjectifyService.ofy;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.appengine.api.datastore.DatastoreNeedIndexException;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;

/** The Datastore stub checks queries against index.yaml, so the other tests prove it complete. */
public class DeclaredIndexesTest {
  @Rule public final LocalAppEngine appEngine = new LocalAppEngine();

  @Test
  public void aQueryWhoseCompositeIndexIsNotDeclaredFails() {
    DatastoreNeedIndexException e = assertThrows(DatastoreNeedIndexException.class, () -> Persistence.run(() ->
        ofy().load().type(ExchangeEntity.class).filter("backendId", "b").order("-created").keys().list().size()));
    assertTrue(e.getMessage(), e.getMessage().contains("index"));
  }

  @Test
  public void thePendingQueryRunsOnTheDeclaredIndex() throws Exception {
    try (DatastoreExchangeStore store = new DatastoreExchangeStore()) {
      String id = store.submit("b", BytesRequest.get("/"));
      assertEquals(List.of(id), store.awaitPending("b", java.time.Duration.ZERO).get());
    }
  }

  @Test
  public void theStubReadsTheIndexFileOnceNotOnEveryWrite() throws Exception {
    // The stubs as set up here wrap the stub's index file manager in a cache; if the stub's
    // internals change and the wrapping silently stops, every write re-parses index.yaml again.
    Class<?> manager = Class.forName("com.google.appengine.api.datastore.dev.LocalCompositeIndexManager");
    java.lang.reflect.Method getInstance = manager.getMethod("getInstance");
    getInstance.setAccessible(true);
    java.lang.reflect.Field files = manager.getDeclaredField("fileManager");
    files.setAccessible(true);
    assertTrue(java.lang.reflect.Proxy.isProxyClass(files.get(getInstance.invoke(null)).getClass()));
    // ... and the indexes it serves are still the declared ones.
    aQueryWhoseCompositeIndexIsNotDeclaredFails();
    thePendingQueryRunsOnTheDeclaredIndex();
  }
}
