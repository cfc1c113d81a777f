package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** An ordered, immutable list of header fields; repeated names keep their order. */
public final class Headers implements Iterable<HeaderField> {
  private static final Headers EMPTY = new Headers(List.of());

  private final List<HeaderField> fields;

  private Headers(List<HeaderField> fields) {
    this.fields = fields;
  }

  public static Headers empty() {
    return EMPTY;
  }

  public static Headers of(List<HeaderField> fields) {
    return fields.isEmpty() ? EMPTY : new Headers(List.copyOf(fields));
  }

  /** Alternating names and values. */
  public static Headers of(String... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("expected name/value pairs, got " + namesAndValues.length + " strings");
    }
    List<HeaderField> list = new ArrayList<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      list.add(new HeaderField(namesAndValues[i], namesAndValues[i + 1]));
    }
    return of(list);
  }

  public Optional<String> first(String name) {
    for (HeaderField f : fields) {
      if (f.is(name)) {
        return Optional.of(f.value());
      }
    }
    return Optional.empty();
  }

  public List<String> all(String name) {
    List<String> values = new ArrayList<>();
    for (HeaderField f : fields) {
      if (f.is(name)) {
        values.add(f.value());
      }
    }
    return values;
  }

  /** The {@link FieldList} elements of every {@code name} field, in order. */
  public List<String> elements(String name) {
    List<String> elements = new ArrayList<>();
    for (HeaderField f : fields) {
      if (f.is(name)) {
        elements.addAll(FieldList.elements(f.value()));
      }
    }
    return elements;
  }

  /** Whether a {@code name} field lists {@code element}, ignoring case (a {@link FieldList}). */
  public boolean hasElement(String name, String element) {
    for (HeaderField f : fields) {
      if (f.is(name) && FieldList.contains(f.value(), element)) {
        return true;
      }
    }
    return false;
  }

  public boolean contains(String name) {
    return first(name).isPresent();
  }

  public int size() {
    return fields.size();
  }

  public List<HeaderField> asList() {
    return fields;
  }

  /** These headers without the fields that {@code drop} accepts. */
  public Headers without(Predicate<HeaderField> drop) {
    requireNonNull(drop, "drop");
    List<HeaderField> kept = new ArrayList<>(fields.size());
    for (HeaderField f : fields) {
      if (!drop.test(f)) {
        kept.add(f);
      }
    }
    return kept.size() == fields.size() ? this : of(kept);
  }

  /** These headers with {@code field} added last. */
  public Headers plus(HeaderField field) {
    List<HeaderField> list = new ArrayList<>(fields);
    list.add(requireNonNull(field, "field"));
    return of(list);
  }

  @Override
  public Iterator<HeaderField> iterator() {
    return Collections.unmodifiableList(fields).iterator();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Headers other && other.fields.equals(fields);
  }

  @Override
  public int hashCode() {
    return fields.hashCode();
  }

  @Override
  public String toString() {
    return fields.toString();
  }
}
