package io.github.invertingproxy.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.ArrayList;
import java.util.List;

/** The body of {@code agent/pending}: a JSON array of request-id strings. */
public final class PendingRequestIds {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private PendingRequestIds() {}

  public static String toJson(List<String> ids) {
    ArrayNode array = MAPPER.createArrayNode();
    ids.forEach(array::add);
    return array.toString();
  }

  /** Accepts an array of strings, {@code null} and an empty body (both meaning none). */
  public static List<String> parse(String body) {
    if (body == null || body.isBlank()) {
      return List.of();
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("pending list is not JSON: " + e.getOriginalMessage());
    }
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw new IllegalArgumentException("pending list is not a JSON array");
    }
    List<String> ids = new ArrayList<>(node.size());
    for (JsonNode n : node) {
      if (!n.isTextual()) {
        throw new IllegalArgumentException("pending list holds a non-string element: " + n);
      }
      ids.add(n.asText());
    }
    return ids;
  }
}
