package io.github.invertingproxy.core.spi;

/** A backend record with the same id already exists. */
public final class DuplicateBackendException extends RuntimeException {
  public DuplicateBackendException(String id) {
    super("a backend with id \"" + id + "\" already exists");
  }
}
