package io.github.invertingproxy.appengine;

/** The two messages of an exchange, each stored in parts. */
enum MessageKind {
  REQUEST("request"),
  RESPONSE("response");

  private final String label;

  MessageKind(String label) {
    this.label = label;
  }

  /**
   * @param upload which upload of the message the part belongs to, or null where there is only one
   *     (a request; a response stored before uploads were told apart)
   */
  String partName(String upload, int index) {
    return upload == null ? label + "-" + index : label + "-" + upload + "-" + index;
  }
}
