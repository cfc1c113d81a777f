package io.github.invertingproxy.protocol;

/** A backend record that breaks a rule; {@link #field()} names the offending field. */
public final class InvalidBackendRecordException extends IllegalArgumentException {
  private final String field;

  public InvalidBackendRecordException(String field, String message) {
    super(message);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
