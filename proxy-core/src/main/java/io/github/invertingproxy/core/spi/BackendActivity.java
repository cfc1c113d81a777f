package io.github.invertingproxy.core.spi;

import io.github.invertingproxy.protocol.BackendStatus;
import java.util.Collection;
import java.util.Map;

/** What the admin API shows about backends' agents beside their records (see {@link BackendStatus}). */
public interface BackendActivity {
  /** The status of each of {@code backendIds}, in one pass over the store; ids it has nothing on may be absent. */
  Map<String, BackendStatus> statusOf(Collection<String> backendIds);
}
