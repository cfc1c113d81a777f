package io.github.invertingproxy.server;

import io.github.invertingproxy.core.spi.Identity;
import io.github.invertingproxy.commandline.Flags;
import io.github.invertingproxy.server.google.GoogleIdentity;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The flags of {@code --auth google}, {@code --auth iap} and {@code --auth google,iap}, and the
 * {@link GoogleIdentity} they configure.
 */
final class GoogleAuthFlags {
  private final Flags.Flag<String> googleAudience;
  private final Flags.Flag<String> iapAudience;
  private final Flags.Flag<String> admins;
  private final Flags.Flag<String> googleCertsUrl;
  private final Flags.Flag<String> iapCertsUrl;
  private final Flags.Flag<String> tokenInfoUrl;

  GoogleAuthFlags(Flags flags) {
    googleAudience = flags.string("google-audience", "",
        "with --auth google: the audience agents' Google ID tokens must carry (the agents' --audience);\n"
            + "empty accepts OAuth access tokens only").env("GOOGLE_AUDIENCE");
    iapAudience = flags.string("iap-audience", "",
        "with --auth iap: the audience of Identity-Aware Proxy's assertions,\n"
            + "/projects/NUMBER/global/backendServices/ID or /projects/NUMBER/apps/PROJECT_ID").env("IAP_AUDIENCE");
    admins = flags.string("admins", "",
        "with --auth google or iap: comma-separated emails that may use the admin API").env("ADMINS");
    googleCertsUrl = flags.string("google-certs-url", GoogleIdentity.Builder.GOOGLE_CERTS_URL,
        "where Google publishes the keys that sign its ID tokens");
    iapCertsUrl = flags.string("iap-certs-url", GoogleIdentity.Builder.IAP_CERTS_URL,
        "where Google publishes the keys that sign IAP's assertions");
    tokenInfoUrl = flags.string("google-tokeninfo-url", GoogleIdentity.Builder.TOKEN_INFO_URL,
        "Google's token-info endpoint, which tells whose an OAuth access token is");
  }

  /** Whether {@code auth} names Google modes only: google, iap, or both separated by a comma. */
  static boolean isGoogle(String auth) {
    List<String> modes = Arrays.asList(auth.split(",", -1));
    return !modes.isEmpty() && Set.of("google", "iap").containsAll(modes);
  }

  /** Refuses the flags of this class where {@code auth} names no Google mode. */
  void requireUnused(String auth) throws Flags.UsageException {
    for (Flags.Flag<?> flag : List.of(googleAudience, iapAudience, admins, googleCertsUrl, iapCertsUrl, tokenInfoUrl)) {
      if (flag.isSet()) {
        throw new Flags.UsageException("--" + flag.name() + " needs --auth google or iap, not --auth " + auth, false);
      }
    }
  }

  Identity identity(String auth, PrintStream err) throws Flags.UsageException {
    Set<String> modes = new LinkedHashSet<>(Arrays.asList(auth.split(",")));
    boolean google = modes.contains("google");
    boolean iap = modes.contains("iap");
    if (iap && iapAudience.get().isEmpty()) {
      throw new Flags.UsageException("--auth iap needs --iap-audience (/projects/NUMBER/global/backendServices/ID"
          + " or /projects/NUMBER/apps/PROJECT_ID)", false);
    }
    if (!iap && !iapAudience.get().isEmpty()) {
      throw new Flags.UsageException("--iap-audience needs --auth iap", false);
    }
    if (!google && !googleAudience.get().isEmpty()) {
      throw new Flags.UsageException("--google-audience needs --auth google", false);
    }
    GoogleIdentity.Builder b = GoogleIdentity.builder();
    try {
      if (google) {
        b.googleTokens(googleAudience.get());
      }
      if (iap) {
        b.iap(iapAudience.get());
      }
      Set<String> emails = new LinkedHashSet<>();
      for (String email : admins.get().split(",")) {
        if (!email.isBlank()) {
          emails.add(email.strip());
        }
      }
      b.admins(emails).googleCertsUrl(googleCertsUrl.get()).iapCertsUrl(iapCertsUrl.get()).tokenInfoUrl(tokenInfoUrl.get());
      if (emails.isEmpty()) {
        err.println("WARNING: no --admins: nobody may use the admin API");
      }
      if (google && googleAudience.get().isEmpty()) {
        err.println("NOTE: no --google-audience: agents must send OAuth access tokens (--credentials google);"
            + " ID tokens are refused");
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException(e.getMessage(), false);
    }
  }
}
