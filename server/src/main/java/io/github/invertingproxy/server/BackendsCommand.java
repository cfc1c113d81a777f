package io.github.invertingproxy.server;

import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendRecordJson;
import io.github.invertingproxy.protocol.TrustedAuthorities;
import io.github.invertingproxy.commandline.Flags;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * {@code inverting-proxy-server backends list|get|create|update|delete}: the admin API from the
 * command line, for either proxy flavour (the stand-alone server's admin port or the App Engine
 * {@code api} service). Exit codes: 0 done, 1 the API refused or could not be reached, 2 a bad
 * command line or no token to be had.
 */
final class BackendsCommand {
  static final int OK = 0;
  static final int API_ERROR = 1;
  static final int USAGE = 2;

  private static final String USAGE_TEXT = String.join("\n",
      "usage: inverting-proxy-server backends COMMAND [flags]",
      "  list [--json]                 every backend record, as a table (--json: as the API's JSON)",
      "  get ID                        one record, as JSON",
      "  create --id ID --end-user EMAIL|allUsers --backend-user EMAIL [--path-prefixes /a,/b]   (alias: add)",
      "  update ID [--end-user ...] [--backend-user ...] [--path-prefixes ...]   change the fields given",
      "  delete ID",
      "Where: --url (alias --api; env PROXY_API), default http://127.0.0.1:8081/ (the stand-alone server's",
      "  admin port); the App Engine flavour's is https://api-dot-PROJECT.appspot.com/.",
      "Token: --token-file PATH, --gcloud-token (runs gcloud auth print-access-token), or --token T",
      "  (env PROXY_API_TOKEN). An https --url signed by a private authority: --ca-cert PATH (PEM).",
      "Exit codes: 0 done, 1 the API refused or cannot be reached, 2 usage.",
      "e.g. backends list",
      "     backends create --id nb1 --end-user alice@example.com --backend-user agent@example.com",
      "     backends list --url https://api-dot-my-project.appspot.com/ --gcloud-token");

  private BackendsCommand() {}

  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      (args.length == 0 ? err : out).println(USAGE_TEXT);
      return args.length == 0 ? USAGE : OK;
    }
    String verb = args[0].equals("add") ? "create" : args[0];
    String program = "backends " + verb;
    Flags flags = new Flags("inverting-proxy-server backends", USAGE_TEXT, env);
    Flags.Flag<String> url = flags.string("url", "http://127.0.0.1:8081/",
        "base URL of the admin API: the stand-alone server's --admin-port, or https://api-dot-PROJECT.appspot.com/")
        .env("PROXY_API");
    Flags.Flag<String> api = flags.string("api", "", "the same as --url (older name)");
    Flags.Flag<String> token = flags.string("token", "", "bearer token of an administrator").env("PROXY_API_TOKEN");
    Flags.Flag<String> tokenFile = flags.string("token-file", "", "file holding an administrator's bearer token");
    Flags.Flag<Boolean> gcloudToken = flags.bool("gcloud-token", false,
        "send gcloud's access token (gcloud auth print-access-token); env GCLOUD names another gcloud");
    Flags.Flag<String> caCert = flags.string("ca-cert", "",
        "PEM file of a private certificate authority trusted for an https --url, besides the system's").env("CA_CERT");
    Flags.Flag<Boolean> json = flags.bool("json", false, "list: print the API's JSON instead of a table");
    Flags.Flag<String> id = flags.string("id", "", "create: the backend's id");
    Flags.Flag<String> endUser = flags.string("end-user", "", "create, update: end user's email, or allUsers");
    Flags.Flag<String> backendUser = flags.string("backend-user", "", "create, update: the agent's account email");
    Flags.Flag<String> prefixes = flags.string("path-prefixes", "/", "create, update: comma-separated path prefixes");
    List<String> rest;
    try {
      rest = flags.parse(Arrays.copyOfRange(args, 1, args.length));
    } catch (Flags.UsageException e) {
      (e.isHelp() ? out : err).println(e.isHelp() ? e.getMessage() : program + ": " + e.getMessage());
      return e.isHelp() ? OK : USAGE;
    }
    String base = api.isSet() ? api.get() : url.get();
    base = base.endsWith("/") ? base : base + "/";
    try {
      if (!base.startsWith("http://") && !base.startsWith("https://")) {
        throw new Flags.UsageException("--url must start with http:// or https://, not \"" + base + "\"", false);
      }
      if (tokenFile.isSet() && gcloudToken.get()) {
        throw new Flags.UsageException("give one of --token-file and --gcloud-token", false);
      }
      Command command = command(verb, rest, id, endUser, backendUser, prefixes);
      String bearer = tokenFile.isSet() ? AdminToken.fromFile(Path.of(tokenFile.get()))
          : gcloudToken.get() ? AdminToken.fromGcloud(env)
          : token.get().isEmpty() ? null : token.get();
      AdminApiClient client = new AdminApiClient(base, bearer, trusted(caCert.get()));
      String what = command.id == null ? program : program + " " + command.id;
      try {
        out.println(command.run(client, json.get(), endUser, backendUser, prefixes));
        return OK;
      } catch (AdminApiClient.ApiError e) {
        err.println(what + ": " + e.getMessage());
        return API_ERROR;
      }
    } catch (Flags.UsageException | AdminToken.Unavailable e) {
      err.println(program + ": " + e.getMessage());
      return USAGE;
    }
  }

  /** The system's certificate authorities and the one in {@code caCertFile}; null (the JVM's own) without one. */
  private static SSLContext trusted(String caCertFile) throws Flags.UsageException {
    if (caCertFile.isEmpty()) {
      return null;
    }
    try {
      return TrustedAuthorities.systemAnd(Path.of(caCertFile));
    } catch (IOException e) {
      throw new Flags.UsageException("--ca-cert " + e.getMessage(), false);
    }
  }

  private static Command command(String verb, List<String> rest, Flags.Flag<String> id, Flags.Flag<String> endUser,
      Flags.Flag<String> backendUser, Flags.Flag<String> prefixes) throws Flags.UsageException {
    switch (verb) {
      case "list" -> {
        noArguments(rest);
        return new Command(verb, null, null);
      }
      case "get", "delete", "update" -> {
        if (rest.size() != 1) {
          throw new Flags.UsageException("give exactly one backend id, as in: backends " + verb + " ID", false);
        }
        if (verb.equals("update") && !endUser.isSet() && !backendUser.isSet() && !prefixes.isSet()) {
          throw new Flags.UsageException("nothing to change: give --end-user, --backend-user or --path-prefixes", false);
        }
        return new Command(verb, rest.get(0), null);
      }
      case "create" -> {
        noArguments(rest);
        require(id, "the backend's id");
        require(endUser, "the end user's email, or allUsers");
        require(backendUser, "the agent's account email");
        return new Command(verb, id.get(), record(id.get(), endUser.get(), backendUser.get(), prefixes.get()));
      }
      default -> throw new Flags.UsageException("unknown command \"" + verb + "\" (list, get, create, update, delete)", false);
    }
  }

  private static void noArguments(List<String> rest) throws Flags.UsageException {
    if (!rest.isEmpty()) {
      throw new Flags.UsageException("unexpected argument \"" + rest.get(0) + "\"", false);
    }
  }

  private static void require(Flags.Flag<String> flag, String what) throws Flags.UsageException {
    if (flag.get().isEmpty()) {
      throw new Flags.UsageException("missing --" + flag.name() + ": " + what, false);
    }
  }

  private static BackendRecord record(String id, String endUser, String backendUser, String prefixes)
      throws Flags.UsageException {
    try {
      return BackendRecord.builder().id(id).endUser(endUser).backendUser(backendUser)
          .pathPrefixes(List.of(prefixes.split(","))).build();
    } catch (IllegalArgumentException e) {
      throw new Flags.UsageException(e.getMessage(), false);
    }
  }

  /** One call, checked and ready; {@code id} names the record it is about (null for list). */
  private record Command(String verb, String id, BackendRecord record) {
    String run(AdminApiClient client, boolean json, Flags.Flag<String> endUser, Flags.Flag<String> backendUser,
        Flags.Flag<String> prefixes) throws AdminApiClient.ApiError, Flags.UsageException {
      switch (verb) {
        case "list" -> {
          String all = client.list();
          return json ? all : table(BackendRecordJson.parseList(all));
        }
        case "get" -> {
          return client.get(id);
        }
        case "create" -> {
          client.create(record);
          return "created backend " + id;
        }
        case "update" -> {
          BackendRecord current = BackendRecordJson.parse(client.get(id));
          client.update(BackendsCommand.record(id,
              endUser.isSet() ? endUser.get() : current.endUser(),
              backendUser.isSet() ? backendUser.get() : current.backendUser(),
              prefixes.isSet() ? prefixes.get() : String.join(",", current.pathPrefixes())));
          return "updated backend " + id;
        }
        default -> {
          client.delete(id);
          return "deleted backend " + id;
        }
      }
    }
  }

  /** The records as aligned columns, one line each, under a header. */
  static String table(List<BackendRecord> records) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "END USER", "BACKEND USER", "PATH PREFIXES", "LAST USED"});
    for (BackendRecord r : records) {
      rows.add(new String[] {r.id(), r.endUser(), r.backendUser(), String.join(",", r.pathPrefixes()),
          r.lastUsed().map(Object::toString).orElse("-")});
    }
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder text = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 2) + "s", row[i]));
      }
      text.append(line.toString().stripTrailing()).append('\n');
    }
    return text.toString().stripTrailing();
  }
}
