package io.github.invertingproxy.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where the admin CLI's bearer token comes from: a file ({@code --token-file}), gcloud's access token
 * ({@code --gcloud-token}, for the App Engine flavour behind Google sign-in), or the command line or
 * environment ({@code --token}, {@code PROXY_API_TOKEN}).
 */
final class AdminToken {
  private AdminToken() {}

  /** A token that cannot be had; the message is one line naming the source. */
  static final class Unavailable extends Exception {
    private static final long serialVersionUID = 1L;

    Unavailable(String message) {
      super(message);
    }
  }

  static String fromFile(Path file) throws Unavailable {
    String token;
    try {
      token = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      throw new Unavailable("--token-file " + file + ": no such file");
    } catch (IOException e) {
      throw new Unavailable("--token-file " + file + ": cannot be read: " + e.getMessage());
    }
    if (token.isEmpty()) {
      throw new Unavailable("--token-file " + file + ": the file is empty");
    }
    return token;
  }

  /**
   * Runs {@code gcloud auth print-access-token}; {@code GCLOUD} in the environment names another
   * gcloud than the one on the PATH.
   */
  static String fromGcloud(Map<String, String> env) throws Unavailable {
    String gcloud = env.getOrDefault("GCLOUD", "gcloud");
    Process process;
    try {
      process = new ProcessBuilder(gcloud, "auth", "print-access-token").redirectInput(ProcessBuilder.Redirect.PIPE).start();
    } catch (IOException e) {
      throw new Unavailable("--gcloud-token: cannot run " + gcloud
          + " (install the Google Cloud SDK and put gcloud on the PATH, or give --token-file)");
    }
    try {
      process.getOutputStream().close();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new Unavailable("--gcloud-token: " + gcloud + " auth print-access-token did not finish within 60s");
      }
      if (process.exitValue() != 0 || out.isEmpty()) {
        String why = err.isEmpty() ? "" : ": " + err.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
        throw new Unavailable("--gcloud-token: " + gcloud + " auth print-access-token failed (exit "
            + process.exitValue() + ")" + why + " (try gcloud auth login)");
      }
      return out.lines().reduce((first, last) -> last).orElse(out).strip();
    } catch (IOException e) {
      throw new Unavailable("--gcloud-token: reading from " + gcloud + " failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new Unavailable("--gcloud-token: interrupted");
    }
  }
}
