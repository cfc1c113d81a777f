package io.github.invertingproxy.server;

import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendRecordJson;
import io.github.invertingproxy.protocol.flags.Flags;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code inverting-proxy-server backends list|get|add|delete}: the admin API from the command line,
 * for any proxy flavour (the stand-alone server or the App Engine {@code api} service).
 */
final class BackendsCommand {
  private BackendsCommand() {}

  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    String usage = "usage: inverting-proxy-server backends list|get ID|add|delete ID [--api URL] [--token T]\n"
        + "  add takes --id, --end-user (email or allUsers), --backend-user (the agent's account), --path-prefixes (comma-separated)\n"
        + "  e.g. backends list --api http://127.0.0.1:8081/   (the stand-alone server's admin port)\n"
        + "       backends list --api https://api-dot-my-project.appspot.com/ --token \"$(gcloud auth print-access-token)\"";
    if (args.length == 0) {
      err.println(usage);
      return 2;
    }
    String verb = args[0];
    Flags flags = new Flags("inverting-proxy-server backends", usage, env);
    Flags.Flag<String> api = flags.string("api", "http://127.0.0.1:8081/",
        "base URL of the admin API: the stand-alone server's --admin-port, or https://api-dot-PROJECT.appspot.com/").env("PROXY_API");
    Flags.Flag<String> token = flags.string("token", "", "bearer token of an administrator").env("PROXY_API_TOKEN");
    Flags.Flag<String> id = flags.string("id", "", "backend id (add)");
    Flags.Flag<String> endUser = flags.string("end-user", "", "end user's email, or allUsers (add)");
    Flags.Flag<String> backendUser = flags.string("backend-user", "", "the agent's account email (add)");
    Flags.Flag<String> prefixes = flags.string("path-prefixes", "/", "comma-separated path prefixes (add)");
    List<String> rest;
    try {
      rest = flags.parse(Arrays.copyOfRange(args, 1, args.length));
    } catch (Flags.UsageException e) {
      (e.isHelp() ? out : err).println(e.isHelp() ? e.getMessage() : "backends: " + e.getMessage());
      return e.isHelp() ? 0 : 2;
    }
    String base = api.get().endsWith("/") ? api.get() : api.get() + "/";
    HttpRequest.Builder request;
    try {
      switch (verb) {
        case "list" -> request = HttpRequest.newBuilder(URI.create(base + "api/backends")).GET();
        case "get", "delete" -> {
          if (rest.size() != 1) {
            err.println("backends " + verb + ": give exactly one backend id");
            return 2;
          }
          URI uri = URI.create(base + "api/backends/" + rest.get(0));
          // The admin API takes a DELETE without a bearer token only with a JSON content type.
          request = verb.equals("get") ? HttpRequest.newBuilder(uri).GET()
              : HttpRequest.newBuilder(uri).header("Content-Type", "application/json").DELETE();
        }
        case "add" -> {
          BackendRecord record = BackendRecord.builder().id(id.get()).endUser(endUser.get())
              .backendUser(backendUser.get()).pathPrefixes(List.of(prefixes.get().split(","))).build();
          request = HttpRequest.newBuilder(URI.create(base + "api/backends"))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(BackendRecordJson.toJson(record)));
        }
        default -> {
          err.println(usage);
          return 2;
        }
      }
    } catch (IllegalArgumentException e) {
      err.println("backends " + verb + ": " + e.getMessage());
      return 2;
    }
    if (!token.get().isEmpty()) {
      request.header("Authorization", "Bearer " + token.get());
    }
    try {
      HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
          .send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        err.println("backends " + verb + ": " + response.statusCode() + " " + response.body().strip());
        return 1;
      }
      out.println(response.body().strip());
      return 0;
    } catch (ConnectException e) {
      err.println("backends " + verb + ": cannot connect to " + base);
      return 1;
    } catch (IOException e) {
      err.println("backends " + verb + ": " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }
}
