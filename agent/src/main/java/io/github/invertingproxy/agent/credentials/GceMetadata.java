package io.github.invertingproxy.agent.credentials;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The GCE metadata server, at {@code GCE_METADATA_HOST} when set (as google-auth-library reads it),
 * else at its link-local address. {@code NO_GCE_CHECK=true} says the agent is not on GCE without asking.
 */
final class GceMetadata {
  static final String DEFAULT_HOST = "169.254.169.254";
  private static final Duration PING_TIMEOUT = Duration.ofMillis(500);
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

  private final String base;
  private final boolean checkDisabled;

  GceMetadata(Map<String, String> env) {
    String host = env.getOrDefault("GCE_METADATA_HOST", "").trim();
    this.base = "http://" + (host.isEmpty() ? DEFAULT_HOST : host);
    this.checkDisabled = Boolean.parseBoolean(env.getOrDefault("NO_GCE_CHECK", "false").trim());
  }

  /** Where the server is expected, such as {@code http://169.254.169.254}. */
  String base() {
    return base;
  }

  /**
   * True when a metadata server answers as one ({@code Metadata-Flavor: Google}); asked twice, briefly,
   * because off GCE nothing answers at all.
   */
  boolean isPresent() {
    if (checkDisabled) {
      return false;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        HttpURLConnection c = open("/", PING_TIMEOUT);
        try {
          c.getResponseCode();
          return "Google".equals(c.getHeaderField("Metadata-Flavor"));
        } finally {
          c.disconnect();
        }
      } catch (IOException e) {
        // Not there, or not yet: try once more.
      }
    }
    return false;
  }

  /**
   * The VM's instance identity token for {@code audience}, in the full format (with the instance's
   * project, zone and id), as the original agent sends in {@code X-Inverting-Proxy-VM-ID}.
   */
  String instanceIdentity(String audience) throws IOException {
    return get("/computeMetadata/v1/instance/service-accounts/default/identity?format=full&audience="
        + URLEncoder.encode(audience, StandardCharsets.UTF_8));
  }

  private String get(String path) throws IOException {
    HttpURLConnection c = open(path, READ_TIMEOUT);
    try {
      int status = c.getResponseCode();
      if (status != 200) {
        throw new IOException("metadata server " + base + " answered " + status + " to " + path.split("\\?")[0]);
      }
      try (InputStream in = c.getInputStream()) {
        String text = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
          throw new IOException("metadata server " + base + " sent an empty answer to " + path.split("\\?")[0]);
        }
        return text;
      }
    } finally {
      c.disconnect();
    }
  }

  private HttpURLConnection open(String path, Duration timeout) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(base + path).toURL().openConnection();
    c.setConnectTimeout((int) timeout.toMillis());
    c.setReadTimeout((int) Math.max(timeout.toMillis(), READ_TIMEOUT.toMillis()));
    c.setInstanceFollowRedirects(false);
    c.setUseCaches(false);
    c.setRequestProperty("Metadata-Flavor", "Google");
    return c;
  }
}
