package io.github.invertingproxy.protocol;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The admin API's JSON for backend records: {@code id}, {@code endUser}, {@code backendUser},
 * {@code pathPrefixes}, and the output-only {@code lastUsed} (RFC 3339), empty fields omitted as the
 * original does. The admin API's GETs add the output-only {@link BackendStatus} fields {@code lastSeen}
 * (RFC 3339), {@code live}, {@code agentsConnected} and {@code requestsInFlight} (each count only where
 * the store can tell it).
 */
public final class BackendRecordJson {
  /** Duplicate keys and anything after the one JSON value are errors, not silently resolved. */
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final Set<String> INPUT_FIELDS = Set.of("id", "endUser", "backendUser", "pathPrefixes");
  /** Fields the writer adds and a client's record may carry back, which the reader ignores. */
  public static final Set<String> OUTPUT_ONLY_FIELDS =
      Set.of("lastUsed", "lastSeen", "live", "agentsConnected", "requestsInFlight");

  private BackendRecordJson() {}

  public static String toJson(BackendRecord record) {
    return write(toNode(record));
  }

  public static String toJson(Collection<BackendRecord> records) {
    return toJson(records, Map.of());
  }

  /** One record with its agent's status. */
  public static String toJson(BackendRecord record, BackendStatus status) {
    return write(withStatus(toNode(record), status));
  }

  /** The records, each with its agent's status where {@code statuses} has one for its id. */
  public static String toJson(Collection<BackendRecord> records, Map<String, BackendStatus> statuses) {
    ArrayNode array = MAPPER.createArrayNode();
    for (BackendRecord r : records) {
      BackendStatus status = statuses.get(r.id());
      array.add(status == null ? toNode(r) : withStatus(toNode(r), status));
    }
    return write(array);
  }

  /**
   * Parses one record as a client sent it. The {@link #OUTPUT_ONLY_FIELDS} are ignored.
   *
   * @throws InvalidBackendRecordException naming the field that is missing, mistyped or invalid
   */
  public static BackendRecord parse(String json) {
    JsonNode node = readTree(json, "the record");
    if (node == null || !node.isObject()) {
      throw new InvalidBackendRecordException("", "body must be a JSON object describing one backend");
    }
    return parse(node);
  }

  private static BackendRecord parse(JsonNode node) {
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!INPUT_FIELDS.contains(name) && !OUTPUT_ONLY_FIELDS.contains(name)) {
        throw new InvalidBackendRecordException(name, "unknown field \"" + name + "\": a record has "
            + Stream.concat(INPUT_FIELDS.stream(), OUTPUT_ONLY_FIELDS.stream())
                .sorted().map(f -> "\"" + f + "\"").collect(Collectors.joining(", ")));
      }
    }
    BackendRecord.Builder b = BackendRecord.builder()
        .id(text(node, "id"))
        .endUser(text(node, "endUser"))
        .backendUser(text(node, "backendUser"));
    JsonNode prefixes = node.get("pathPrefixes");
    if (prefixes != null && !prefixes.isNull()) {
      if (!prefixes.isArray()) {
        throw new InvalidBackendRecordException("pathPrefixes", "pathPrefixes must be an array of strings");
      }
      List<String> list = new ArrayList<>();
      for (JsonNode p : prefixes) {
        if (!p.isTextual()) {
          throw new InvalidBackendRecordException("pathPrefixes", "pathPrefixes must be an array of strings");
        }
        list.add(p.asText());
      }
      b.pathPrefixes(list);
    }
    return b.build();
  }

  /** Parses a list as the admin API returns it, {@code lastUsed} included. */
  public static List<BackendRecord> parseList(String json) {
    JsonNode node = readTree(json, "the list");
    List<BackendRecord> records = new ArrayList<>();
    if (node == null || node.isNull()) {
      return records;
    }
    if (!node.isArray()) {
      throw new InvalidBackendRecordException("", "expected a JSON array of backend records");
    }
    for (JsonNode n : node) {
      if (!n.isObject()) {
        throw new InvalidBackendRecordException("", "expected a JSON array of backend records, found " + n);
      }
      BackendRecord r = parse(n);
      JsonNode lastUsed = n.get("lastUsed");
      if (lastUsed != null && lastUsed.isTextual() && !lastUsed.asText().isEmpty()) {
        try {
          r = r.withLastUsed(Instant.parse(lastUsed.asText()));
        } catch (DateTimeParseException e) {
          throw new InvalidBackendRecordException("lastUsed", "lastUsed is not an RFC 3339 time");
        }
      }
      records.add(r);
    }
    return records;
  }

  /** Parses one JSON value, refusing duplicate keys and trailing data; {@code what} names it in errors. */
  private static JsonNode readTree(String json, String what) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonParseException e) {
      String duplicate = currentName(e.getProcessor());
      if (duplicate != null && e.getOriginalMessage().startsWith("Duplicate field")) {
        throw new InvalidBackendRecordException(duplicate, "field \"" + duplicate + "\" appears twice");
      }
      throw new InvalidBackendRecordException("", "not valid JSON: " + e.getOriginalMessage());
    } catch (MismatchedInputException e) {
      if (e.getOriginalMessage().startsWith("Trailing token")) {
        throw new InvalidBackendRecordException("", "unexpected data after " + what);
      }
      throw new InvalidBackendRecordException("", "not valid JSON: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new InvalidBackendRecordException("", "not valid JSON: " + e.getOriginalMessage());
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new InvalidBackendRecordException(field, field + " must be a string");
    }
    return v.asText();
  }

  private static String currentName(JsonParser parser) {
    try {
      return parser == null ? null : parser.currentName();
    } catch (IOException e) {
      return null;
    }
  }

  private static ObjectNode toNode(BackendRecord r) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("id", r.id());
    o.put("endUser", r.endUser());
    o.put("backendUser", r.backendUser());
    ArrayNode prefixes = o.putArray("pathPrefixes");
    r.pathPrefixes().forEach(prefixes::add);
    r.lastUsed().ifPresent(t -> o.put("lastUsed", RequestStartTime.format(t)));
    return o;
  }

  private static ObjectNode withStatus(ObjectNode o, BackendStatus status) {
    status.lastSeen().ifPresent(t -> o.put("lastSeen", RequestStartTime.format(t)));
    o.put("live", status.live());
    status.agentsConnected().ifPresent(n -> o.put("agentsConnected", n));
    status.requestsInFlight().ifPresent(n -> o.put("requestsInFlight", n));
    return o;
  }

  private static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
