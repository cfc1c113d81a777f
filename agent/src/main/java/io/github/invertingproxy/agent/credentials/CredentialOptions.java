package io.github.invertingproxy.agent.credentials;

import io.github.invertingproxy.commandline.Flags;
import java.nio.file.Path;
import java.util.Map;

/**
 * The credential flags of the agent's command line: {@code --credentials} ({@code google}, the
 * original's way and the default; {@code id-token}; {@code token-file:PATH}; {@code none}),
 * {@code --audience} for ID tokens, and the original's {@code --disable-gce-vm-header}.
 */
public final class CredentialOptions {
  static final String DEFAULT = "google";

  private final Flags.Flag<String> credentials;
  private final Flags.Flag<String> audience;
  private final Flags.Flag<Boolean> disableGceVmHeader;

  private CredentialOptions(Flags flags) {
    credentials = flags.string("credentials", DEFAULT,
        "How the agent authenticates to the proxy:\n"
            + "  google: a Google access token (scopes cloud-platform, email) from gcloud's active account,\n"
            + "    else Application Default Credentials, else the GCE metadata server (as the original)\n"
            + "  id-token: a Google-signed OIDC ID token for --audience, from the same sources\n"
            + "  token-file:PATH: \"Authorization: Bearer <file content>\", read again when the file changes\n"
            + "  none: no Authorization header, for a proxy without agent authentication")
        .env("PROXY_CREDENTIALS");
    audience = flags.string("audience", "",
        "With --credentials id-token: the ID token's audience (for Identity-Aware Proxy, its OAuth client ID)");
    disableGceVmHeader = flags.bool("disable-gce-vm-header", false,
        "Disable the agent from adding a GCE VM header (X-Inverting-Proxy-VM-ID, the VM's identity token\n"
            + "for the proxy URL, sent with google and id-token credentials on a GCE VM)");
  }

  /** Declares the flags; read them after parsing with {@link #credentials}. */
  public static CredentialOptions define(Flags flags) {
    return new CredentialOptions(flags);
  }

  /**
   * The credentials the parsed flags ask for, not yet looked for: Google's sources are searched on
   * first use, so parsing does no I/O.
   *
   * @param proxyUrl the {@code --proxy} value: the VM identity token's audience, as by the original
   */
  public ProxyCredentials credentials(Map<String, String> env, String proxyUrl) throws Flags.UsageException {
    String spec = credentials.get().trim();
    String aud = audience.get().trim();
    if (!aud.isEmpty() && !spec.equals("id-token")) {
      throw new Flags.UsageException("--audience is only used with --credentials id-token", false);
    }
    String vmAudience = disableGceVmHeader.get() ? null : proxyUrl;
    switch (spec) {
      case "none":
        return ProxyCredentials.none();
      case "google":
        return new GoogleProxyCredentials(null, env, vmAudience);
      case "id-token":
        if (aud.isEmpty()) {
          throw new Flags.UsageException("--credentials id-token needs --audience: the audience the proxy's front"
              + " expects (for Identity-Aware Proxy, its OAuth client ID)", false);
        }
        return new GoogleProxyCredentials(aud, env, vmAudience);
      default:
        if (spec.startsWith("token-file:") && spec.length() > "token-file:".length()) {
          return ProxyCredentials.tokenFile(Path.of(spec.substring("token-file:".length())));
        }
        throw new Flags.UsageException("invalid --credentials \"" + spec
            + "\": expected google, id-token, token-file:PATH or none", false);
    }
  }
}
