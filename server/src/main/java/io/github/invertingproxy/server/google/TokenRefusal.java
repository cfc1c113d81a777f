package io.github.invertingproxy.server.google;

/** Why a token or assertion was refused. The message never contains the token itself. */
final class TokenRefusal extends Exception {
  TokenRefusal(String message) {
    super(message, null, false, false);
  }
}
