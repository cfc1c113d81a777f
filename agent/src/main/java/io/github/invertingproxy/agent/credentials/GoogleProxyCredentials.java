package io.github.invertingproxy.agent.credentials;

import static java.util.Objects.requireNonNull;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.ComputeEngineCredentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.IdTokenCredentials;
import com.google.auth.oauth2.IdTokenProvider;
import com.google.auth.oauth2.ImpersonatedCredentials;
import com.google.auth.oauth2.OAuth2Credentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import io.github.invertingproxy.agent.observe.AgentObserver;
import io.github.invertingproxy.protocol.GoDuration;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.ProtocolHeaders;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * {@code --credentials google} (an OAuth access token with scopes cloud-platform and email) and
 * {@code --credentials id-token} (an OIDC ID token for an audience), from the first source that works,
 * in the original agent's order: the gcloud SDK's active account, Application Default Credentials
 * ({@code GOOGLE_APPLICATION_CREDENTIALS}, then gcloud's well-known file), the GCE metadata server.
 *
 * <p>The source is found on first use. The token is kept and fetched again in the background
 * {@value #REFRESH_AHEAD_MINUTES} minutes before it expires, so a proxy call waits for a token only
 * at start-up or after the background refresh failed for a long while. On a GCE VM the calls also carry
 * {@code X-Inverting-Proxy-VM-ID}, the instance identity token for the proxy's URL, fetched again in
 * the background every {@value #VM_IDENTITY_REFRESH_MINUTES} minutes and never on a call's way. Tokens
 * are never logged.
 */
public final class GoogleProxyCredentials implements ProxyCredentials, Closeable {
  private static final Logger LOG = Logger.getLogger(GoogleProxyCredentials.class.getName());
  public static final List<String> SCOPES = List.of("https://www.googleapis.com/auth/cloud-platform", "email");
  static final long REFRESH_AHEAD_MINUTES = 5;
  static final long VM_IDENTITY_REFRESH_MINUTES = 10;
  /** A token this close to its expiry is not used; the call waits for a new one. */
  private static final Duration MIN_REMAINING = Duration.ofSeconds(30);

  private final String audience;
  private final Map<String, String> env;
  private final String vmIdentityAudience;
  private final Duration refreshAhead;
  private final Duration vmIdentityRefresh;
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile AgentObserver observer = AgentObserver.NONE;

  private OAuth2Credentials source;
  private volatile String description;
  private volatile Token token;
  private volatile String vmIdentity;
  private volatile boolean vmIdentityOn;
  private ScheduledExecutorService background;
  private boolean closed;

  /**
   * @param audience the ID token's audience, or null for an access token
   * @param env where to look: {@code PATH}, {@code GOOGLE_APPLICATION_CREDENTIALS}, {@code HOME},
   *     {@code CLOUDSDK_CONFIG}, {@code GCE_METADATA_HOST}, {@code NO_GCE_CHECK}
   * @param vmIdentityAudience the proxy URL, to send {@code X-Inverting-Proxy-VM-ID} on a GCE VM; null
   *     never to send it
   */
  public GoogleProxyCredentials(String audience, Map<String, String> env, String vmIdentityAudience) {
    this(audience, env, vmIdentityAudience, Duration.ofMinutes(REFRESH_AHEAD_MINUTES),
        Duration.ofMinutes(VM_IDENTITY_REFRESH_MINUTES));
  }

  public GoogleProxyCredentials(String audience, Map<String, String> env, String vmIdentityAudience, Duration refreshAhead,
      Duration vmIdentityRefresh) {
    this.audience = audience;
    this.env = Map.copyOf(requireNonNull(env, "env"));
    this.vmIdentityAudience = vmIdentityAudience;
    this.refreshAhead = requireNonNull(refreshAhead, "refreshAhead");
    this.vmIdentityRefresh = requireNonNull(vmIdentityRefresh, "vmIdentityRefresh");
  }

  @Override
  public Optional<String> authorizationHeader() throws IOException {
    Token current = token;
    Instant now = Instant.now();
    if (current == null || current.expires.minus(MIN_REMAINING).isBefore(now)) {
      current = refreshNow();
    } else if (current.expires.minus(refreshAhead).isBefore(now)) {
      refreshInBackground();
    }
    return Optional.of("Bearer " + current.value);
  }

  @Override
  public Headers otherHeaders() {
    String identity = vmIdentity;
    return identity == null ? Headers.empty() : Headers.of(ProtocolHeaders.VM_ID, identity);
  }

  /** Finds the source when not yet found, and fetches a token, waiting for it. */
  private synchronized Token refreshNow() throws IOException {
    Token current = token;
    if (current != null && current.expires.minus(MIN_REMAINING).isAfter(Instant.now())) {
      return current; // another thread fetched one meanwhile
    }
    try {
      if (source == null) {
        discover();
      }
      Token fresh = fetch();
      observer.credentialRefreshed();
      return fresh;
    } catch (IOException | RuntimeException e) {
      observer.credentialRefreshFailed();
      throw e;
    }
  }

  @Override
  public void observeRefreshes(AgentObserver observer) {
    this.observer = observer;
  }

  private Token fetch() throws IOException {
    source.refresh();
    AccessToken t = source.getAccessToken();
    if (t == null || t.getTokenValue() == null || t.getTokenValue().isEmpty()) {
      throw new IOException(description + " gave no token");
    }
    Instant expires = t.getExpirationTime() == null ? Instant.now().plus(Duration.ofMinutes(30))
        : t.getExpirationTime().toInstant();
    Token fresh = new Token(t.getTokenValue(), expires);
    token = fresh;
    return fresh;
  }

  private void refreshInBackground() {
    if (!refreshing.compareAndSet(false, true)) {
      return;
    }
    ScheduledExecutorService executor = background();
    if (executor == null) {
      refreshing.set(false);
      return;
    }
    executor.execute(() -> {
      try {
        synchronized (this) {
          fetch();
        }
        observer.credentialRefreshed();
        LOG.fine(() -> "refreshed the " + kind() + " token ahead of its expiry");
      } catch (IOException | RuntimeException e) {
        observer.credentialRefreshFailed();
        LOG.warning("refreshing the " + kind() + " token failed, will retry: " + e.getMessage());
      } finally {
        refreshing.set(false);
      }
    });
  }

  private void discover() throws IOException {
    List<String> tried = new ArrayList<>();
    GceMetadata metadata = new GceMetadata(env);
    Boolean onGce = null;

    Optional<GcloudCredentials> gcloud = GcloudCredentials.find(env, audience);
    if (gcloud.isPresent()) {
      try {
        gcloud.get().refresh();
        source = gcloud.get();
        description = "gcloud (" + gcloud.get().command() + "), account "
            + gcloud.get().account().orElse("unknown");
      } catch (IOException e) {
        tried.add("gcloud: " + e.getMessage());
      }
    } else {
      tried.add("gcloud is not on the PATH");
    }

    if (source == null) {
      String adcFile = env.getOrDefault("GOOGLE_APPLICATION_CREDENTIALS", "").trim();
      if (!adcFile.isEmpty()) {
        // As the ADC rules say: a named file that does not work is an error, not a reason to look on.
        useFile(Path.of(adcFile), "GOOGLE_APPLICATION_CREDENTIALS");
      } else {
        tried.add("GOOGLE_APPLICATION_CREDENTIALS is not set");
        Path wellKnown = wellKnownFile();
        if (Files.isRegularFile(wellKnown)) {
          useFile(wellKnown, "gcloud's application default credentials");
        } else {
          tried.add("no " + wellKnown);
        }
      }
    }

    if (source == null) {
      onGce = metadata.isPresent();
      if (onGce) {
        ComputeEngineCredentials compute = ComputeEngineCredentials.newBuilder().setScopes(SCOPES).build();
        source = audience == null ? compute : idTokens(compute);
        String account;
        try {
          account = compute.getAccount();
        } catch (RuntimeException e) {
          account = "unknown";
        }
        description = "GCE metadata server (" + metadata.base() + "), service account " + account;
      } else {
        tried.add("no GCE metadata server answered at " + metadata.base());
      }
    }

    if (source == null) {
      throw new IOException("no Google credentials found: " + String.join("; ", tried)
          + " (run gcloud auth login, set GOOGLE_APPLICATION_CREDENTIALS, or use --credentials none)");
    }
    LOG.fine(() -> kind() + " credentials from " + description);
    if (vmIdentityAudience != null) {
      startVmIdentity(metadata, onGce);
    }
  }

  private void useFile(Path file, String what) throws IOException {
    GoogleCredentials loaded;
    try (InputStream in = Files.newInputStream(file)) {
      loaded = GoogleCredentials.fromStream(in);
    } catch (IOException e) {
      throw new IOException(what + " " + file + " is not usable: " + e.getMessage(), e);
    }
    source = audience == null ? loaded.createScoped(SCOPES) : idTokens(loaded);
    String account = loaded instanceof ServiceAccountCredentials sa ? "service account " + sa.getClientEmail()
        : loaded instanceof ImpersonatedCredentials ic ? "impersonating " + ic.getAccount()
        : loaded.getClass().getSimpleName().replace("Credentials", "").toLowerCase(java.util.Locale.ROOT)
            + " credentials, account unknown";
    description = what + " (" + file + "), " + account;
  }

  private OAuth2Credentials idTokens(GoogleCredentials credentials) throws IOException {
    if (!(credentials instanceof IdTokenProvider provider)) {
      throw new IOException("credentials of type " + credentials.getClass().getSimpleName()
          + " cannot make ID tokens; use a service account or the GCE metadata server");
    }
    // The full format (and, impersonating, the email option) makes the token name the account's email,
    // which a proxy matches against the record's backendUser; GCE's standard format names no email.
    return IdTokenCredentials.newBuilder().setIdTokenProvider(provider).setTargetAudience(audience)
        .setOptions(List.of(IdTokenProvider.Option.FORMAT_FULL, IdTokenProvider.Option.INCLUDE_EMAIL)).build();
  }

  private Path wellKnownFile() {
    String config = env.getOrDefault("CLOUDSDK_CONFIG", "").trim();
    if (!config.isEmpty()) {
      return Path.of(config, "application_default_credentials.json");
    }
    String home = env.getOrDefault("HOME", "").trim();
    if (home.isEmpty()) {
      home = System.getProperty("user.home", "");
    }
    return Path.of(home, ".config", "gcloud", "application_default_credentials.json");
  }

  private void startVmIdentity(GceMetadata metadata, Boolean knownOnGce) {
    boolean onGce = knownOnGce != null ? knownOnGce : metadata.isPresent();
    if (!onGce) {
      return;
    }
    try {
      vmIdentity = metadata.instanceIdentity(vmIdentityAudience);
    } catch (IOException e) {
      LOG.warning("on a GCE VM, but its identity token is not available yet (will retry): " + e.getMessage());
    }
    ScheduledExecutorService executor = background();
    if (executor == null) {
      return;
    }
    executor.scheduleWithFixedDelay(() -> {
      try {
        vmIdentity = metadata.instanceIdentity(vmIdentityAudience);
      } catch (IOException | RuntimeException e) {
        LOG.warning("refreshing the GCE VM identity token failed, will retry: " + e.getMessage());
      }
    }, vmIdentityRefresh.toNanos(), vmIdentityRefresh.toNanos(), TimeUnit.NANOSECONDS);
    vmIdentityOn = true;
    LOG.fine(() -> "on a GCE VM: calls carry " + ProtocolHeaders.VM_ID + " for audience " + vmIdentityAudience
        + ", refreshed every " + GoDuration.format(vmIdentityRefresh));
  }

  private synchronized ScheduledExecutorService background() {
    if (closed) {
      return null;
    }
    if (background == null) {
      background = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "inverting-proxy-agent-credentials");
        t.setDaemon(true);
        return t;
      });
    }
    return background;
  }

  private String kind() {
    return audience == null ? "google" : "id-token";
  }

  /** Stops refreshing in the background. */
  @Override
  public synchronized void close() {
    closed = true;
    if (background != null) {
      background.shutdownNow();
    }
  }

  /** The kind, and once found, the source and account: never a token. */
  @Override
  public String toString() {
    String kind = audience == null ? "google" : "id-token (audience " + audience + ")";
    return description == null ? kind
        : kind + " from " + description + (vmIdentityOn ? ", with " + ProtocolHeaders.VM_ID : "");
  }

  private record Token(String value, Instant expires) {
    @Override
    public String toString() {
      return "Token[expires " + expires + "]"; // never the value
    }
  }
}
