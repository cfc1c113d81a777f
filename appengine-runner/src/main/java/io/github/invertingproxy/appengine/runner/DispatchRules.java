package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The routing rules of {@code dispatch.yaml}, applied as App Engine applies them: each {@code url}
 * is {@code host/path}, where the host may start with {@code *} and the path may end with
 * {@code *}; the first rule that matches names the service, and a request no rule matches goes to
 * {@code default}.
 */
public final class DispatchRules {
  public static final String DEFAULT_SERVICE = "default";

  /** One {@code url}/{@code service} pair. */
  public record Rule(String url, String service) {
    public Rule {
      requireNonNull(url, "url");
      requireNonNull(service, "service");
      if (url.indexOf('/') < 0) {
        throw new IllegalArgumentException("dispatch url \"" + url + "\" has no path: write host/path, such as */agent/*");
      }
    }

    boolean matches(String host, String path) {
      int slash = url.indexOf('/');
      String hostPattern = url.substring(0, slash).toLowerCase(Locale.ROOT);
      String pathPattern = url.substring(slash);
      return hostMatches(hostPattern, host.toLowerCase(Locale.ROOT)) && wildcardSuffix(pathPattern, path);
    }

    private static boolean hostMatches(String pattern, String host) {
      if (pattern.startsWith("*")) {
        return host.endsWith(pattern.substring(1));
      }
      return pattern.equals(host);
    }

    private static boolean wildcardSuffix(String pattern, String value) {
      return pattern.endsWith("*") ? value.startsWith(pattern.substring(0, pattern.length() - 1)) : pattern.equals(value);
    }
  }

  private final List<Rule> rules;

  private DispatchRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /**
   * @throws IllegalArgumentException when the file is not a {@code dispatch:} list of {@code url} and
   *     {@code service} entries
   */
  public static DispatchRules parse(InputStream yaml) throws IOException {
    requireNonNull(yaml, "yaml");
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    if (root == null || !root.has("dispatch") || !root.get("dispatch").isArray()) {
      throw new IllegalArgumentException("dispatch.yaml must hold a list named dispatch");
    }
    List<Rule> rules = new ArrayList<>();
    int n = 0;
    for (JsonNode entry : root.get("dispatch")) {
      n++;
      JsonNode url = entry.get("url");
      JsonNode service = entry.get("service");
      if (url == null || !url.isTextual() || service == null || !service.isTextual()) {
        throw new IllegalArgumentException("dispatch.yaml entry " + n + " needs a url and a service");
      }
      rules.add(new Rule(url.asText(), service.asText()));
    }
    return new DispatchRules(rules);
  }

  public List<Rule> rules() {
    return rules;
  }

  /** The service that answers a request for {@code host} (without port) and {@code path}. */
  public String serviceFor(String host, String path) {
    for (Rule r : rules) {
      if (r.matches(host, path)) {
        return r.service();
      }
    }
    return DEFAULT_SERVICE;
  }
}
