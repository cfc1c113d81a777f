package io.github.invertingproxy.server;

import io.github.invertingproxy.protocol.BackendRecord;
import io.github.invertingproxy.protocol.BackendRecordJson;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

/**
 * The admin API's five calls ({@code /api/backends}) against either flavour: the stand-alone
 * server's admin port or the App Engine {@code api} service. Every answer but 200 becomes an
 * {@link ApiError} whose message says in words what the status means for the call.
 */
final class AdminApiClient {
  private final String base;
  private final String token;
  private final HttpClient http;

  /**
   * @param base the admin API's base URL, ending with {@code /}
   * @param token an administrator's bearer token, or null to send none
   * @param trusted the authorities an https API's certificate may come from; null for the JVM's
   */
  AdminApiClient(String base, String token, SSLContext trusted) {
    this.base = base;
    this.token = token;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    this.http = (trusted == null ? b : b.sslContext(trusted)).build();
  }

  /** The JSON array of every record. */
  String list() throws ApiError {
    return send(request("").GET(), null);
  }

  /** The record's JSON. */
  String get(String id) throws ApiError {
    return send(request(id).GET(), id);
  }

  void create(BackendRecord record) throws ApiError {
    send(request("").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(BackendRecordJson.toJson(record))), record.id());
  }

  void update(BackendRecord record) throws ApiError {
    send(request(record.id()).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(BackendRecordJson.toJson(record))), record.id());
  }

  void delete(String id) throws ApiError {
    // The admin API takes a DELETE without a bearer token only with a JSON content type.
    send(request(id).header("Content-Type", "application/json").DELETE(), id);
  }

  private HttpRequest.Builder request(String id) {
    String path = "api/backends" + (id.isEmpty() ? "" : "/" + URLEncoder.encode(id, StandardCharsets.UTF_8));
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  /** @param id the record the call is about, or null for the list */
  private String send(HttpRequest.Builder request, String id) throws ApiError {
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (SSLHandshakeException e) {
      throw new ApiError("TLS handshake with " + base + " failed (for a private authority, give its certificate"
          + " with --ca-cert): " + e.getMessage());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new ApiError("cannot connect to " + base + " (is the admin API there? the stand-alone server's is its --admin-port)");
    } catch (IOException e) {
      throw new ApiError("no answer from " + base + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError("interrupted");
    }
    int status = response.statusCode();
    String said = firstLine(response.body());
    switch (status) {
      case 200:
        return response.body().strip();
      case 400:
        throw new ApiError("refused (400): " + said);
      case 401:
        throw new ApiError("not authenticated (401): give an administrator's token with --token, --token-file or --gcloud-token");
      case 403:
        throw new ApiError("forbidden (403): the token is not an administrator's");
      case 404:
        throw new ApiError(id == null ? "no admin API at " + base + " (404)" : "no such backend (404)");
      case 409:
        throw new ApiError("a backend with this id already exists (409)");
      default:
        throw new ApiError("the admin API answered " + status + (said.isEmpty() ? "" : ": " + said));
    }
  }

  private static String firstLine(String body) {
    String text = body == null ? "" : body.strip();
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end).strip();
  }

  /** A call that did not succeed; the message is one line. */
  static final class ApiError extends Exception {
    private static final long serialVersionUID = 1L;

    ApiError(String message) {
      super(message);
    }
  }
}
