package io.github.invertingproxy.appengine;

/** The two messages of an exchange, each stored in parts. */
enum MessageKind {
  REQUEST("request"),
  RESPONSE("response");

  private final String label;

  MessageKind(String label) {
    this.label = label;
  }

  String partName(int index) {
    return label + "-" + index;
  }
}
