package io.github.invertingproxy.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * An administrator uses the admin page in headless Chromium against the stand-alone server's jar with
 * {@code --auth tokens}: signs in with the admin token, adds, edits and deletes a record through the
 * page's form (each change checked through the API), sees the API's errors verbatim, sees an agent's
 * backend go live, and data shown as text, never as markup.
 */
public class AdminPageBrowserTest {
  private static final String ADMIN_TOKEN = "page-admin-token-0123456789";
  private static final String AGENT_TOKEN = "page-agent-token-0123456789";
  private static final String USER_TOKEN = "page-user-token-01234567890";
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();

  private Path dir;
  private String adminUrl;
  private String proxyUrl;
  private HeadlessChromium chromium;
  private Process agent;
  private final HttpClient http = HttpClient.newHttpClient();

  @Before
  public void start() throws Exception {
    HeadlessChromium.executable();
    dir = Files.createTempDirectory("admin-page");
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, ADMIN_TOKEN + " admin\n" + AGENT_TOKEN + " agent agent@example.com\n"
        + USER_TOKEN + " user alice@example.com\n");
    Path log = dir.resolve("server.log");
    proxyUrl = Processes.startServer("128m", log, "--auth", "tokens", "--tokens-file", tokens.toString());
    adminUrl = Processes.adminUrl(log);
    chromium = HeadlessChromium.start();
  }

  @After
  public void stop() throws Exception {
    if (agent != null) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (chromium != null) {
      chromium.close();
    }
    Processes.killAll();
  }

  private HttpResponse<String> api(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(adminUrl + "api/backends" + path))
        .header("Authorization", "Bearer " + ADMIN_TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String text(String elementId) {
    return "(document.getElementById('" + elementId + "') || {}).textContent || ''";
  }

  private static String fillAndSubmit(String id, String endUser, String backendUser, String prefixes) {
    return "(() => {"
        + (id == null ? "" : " document.getElementById('field-id').value = " + quoted(id) + ";")
        + " document.getElementById('field-endUser').value = " + quoted(endUser) + ";"
        + " document.getElementById('field-backendUser').value = " + quoted(backendUser) + ";"
        + " document.getElementById('field-pathPrefixes').value = " + quoted(prefixes) + ";"
        + " document.getElementById('record-form').requestSubmit(); return 'submitted'; })()";
  }

  private static String click(String selector) {
    return "(() => { document.querySelector(" + quoted(selector) + ").click(); return 'clicked'; })()";
  }

  private static String quoted(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final String TOKEN_ASKED =
      "document.getElementById('token-form') && !document.getElementById('token-form').hidden ? 'token asked' : ''";

  private static String enterToken(String token) {
    return "(() => { document.getElementById('token').value = " + quoted(token) + ";"
        + " document.getElementById('token-form').requestSubmit(); return 'sent'; })()";
  }

  private HeadlessChromium.Tab signIn() throws Exception {
    HeadlessChromium.Tab tab = chromium.openTab(adminUrl, Map.of());
    assertEquals("token asked", tab.await(TOKEN_ASKED, List.of("token asked"), WAIT));
    tab.evaluate(enterToken(ADMIN_TOKEN));
    assertEquals("listed",
        tab.await("document.getElementById('records').hidden ? '' : 'listed'", List.of("listed"), WAIT));
    return tab;
  }

  @Test
  public void anAdministratorAddsEditsAndDeletesARecordAndSeesTheApisErrors() throws Exception {
    HeadlessChromium.Tab tab = signIn();
    assertTrue(tab.evaluate(text("summary")), tab.evaluate(text("summary")).startsWith("0 records, 0 live"));
    // The policy lets the page's own style block apply (by its hash), and nothing else.
    assertEquals("14px", tab.evaluate("getComputedStyle(document.body).fontSize"));

    tab.evaluate(fillAndSubmit("page-made", "alice@example.com", "agent@example.com", "/app/\n/other/"));
    assertEquals("Added page-made", tab.await(text("notice"), List.of("Added"), WAIT));
    JsonNode created = JSON.readTree(api("GET", "/page-made", null).body());
    assertEquals("alice@example.com", created.get("endUser").asText());
    assertEquals("[\"/app/\",\"/other/\"]", created.get("pathPrefixes").toString());
    assertTrue(tab.await(text("rows"), List.of("page-made"), WAIT).contains("alice@example.com"));

    tab.evaluate(click("tr[data-id=\"page-made\"] button.edit"));
    assertEquals("Edit backend page-made", tab.evaluate(text("form-title")));
    tab.evaluate(fillAndSubmit(null, "allUsers", "agent@example.com", "/app/"));
    assertEquals("Saved page-made", tab.await(text("notice"), List.of("Saved"), WAIT));
    JsonNode edited = JSON.readTree(api("GET", "/page-made", null).body());
    assertEquals("allUsers", edited.get("endUser").asText());
    assertEquals("[\"/app/\"]", edited.get("pathPrefixes").toString());

    tab.evaluate(fillAndSubmit("page-made", "bob@example.com", "agent@example.com", "/"));
    assertEquals("Conflict: a backend with id \"page-made\" already exists",
        tab.await(text("error"), List.of("Conflict"), WAIT));
    tab.evaluate(fillAndSubmit("second", "not an email", "agent@example.com", "/"));
    assertEquals("Bad request: field endUser: endUser \"not an email\" is neither an email nor \"allUsers\"",
        tab.await(text("error"), List.of("Bad request"), WAIT));
    assertEquals(404, api("GET", "/second", null).statusCode());

    tab.evaluate(click("tr[data-id=\"page-made\"] button.delete"));
    assertEquals(200, api("GET", "/page-made", null).statusCode());
    assertEquals("Really delete?",
        tab.evaluate("document.querySelector('tr[data-id=\"page-made\"] button.delete').textContent"));
    tab.evaluate(click("tr[data-id=\"page-made\"] button.delete"));
    assertEquals("Deleted page-made", tab.await(text("notice"), List.of("Deleted"), WAIT));
    assertEquals(404, api("GET", "/page-made", null).statusCode());
    assertEquals("0 records", tab.await(text("summary"), List.of("0 records"), WAIT).substring(0, 9));
  }

  @Test
  public void aTokenThatIsNoAdministratorsIsForgottenAndAskedForAgain() throws Exception {
    HeadlessChromium.Tab tab = chromium.openTab(adminUrl, Map.of());
    assertEquals("token asked", tab.await(TOKEN_ASKED, List.of("token asked"), WAIT));
    tab.evaluate(enterToken(USER_TOKEN));
    assertEquals("Forbidden: the admin API is for administrators only",
        tab.await(text("error"), List.of("Forbidden"), WAIT));
    assertEquals("token asked", tab.await(TOKEN_ASKED, List.of("token asked"), WAIT));
    assertEquals("none", tab.evaluate("sessionStorage.getItem('invertingProxyAdminToken') || 'none'"));
  }

  @Test
  public void aBackendWhoseAgentPollsShowsAsLiveWithItsConnection() throws Exception {
    assertEquals(200, api("POST", "", "{\"id\":\"polled\",\"endUser\":\"allUsers\","
        + "\"backendUser\":\"agent@example.com\",\"pathPrefixes\":[\"/\"]}").statusCode());
    Path tokenFile = dir.resolve("agent-token");
    Files.writeString(tokenFile, AGENT_TOKEN + "\n");
    agent = Processes.java("64m", Processes.AGENT_JAR, dir.resolve("agent.log"), "--proxy", proxyUrl,
        "--backend", "polled", "--host", "127.0.0.1:9", "--credentials", "token-file:" + tokenFile);
    HeadlessChromium.Tab tab = signIn();
    String row = "document.querySelector('tr[data-id=\"polled\"]') ? "
        + "Array.from(document.querySelectorAll('tr[data-id=\"polled\"] td')).map(td => td.textContent).join('|') : ''";
    // Columns: id, end user, backend user, prefixes, agent, last poll, last used, agents connected, in flight.
    String shown = tab.await(row, List.of("polled|allUsers|agent@example.com|/|live|20"), Duration.ofSeconds(30));
    String[] cells = shown.split("\\|");
    assertEquals(shown, "live", cells[4]);
    assertTrue(shown, cells[5].endsWith("s ago)"));
    assertEquals(shown, "never", cells[6]);
    assertEquals(shown, "0", cells[8]);
    // Between two polls the agent holds no connection; it is back within a poll or two.
    String agentsConnected = "(document.querySelectorAll('tr[data-id=\"polled\"] td')[7] || {}).textContent";
    assertEquals("1", tab.await(agentsConnected, List.of("1"), Duration.ofSeconds(30)));
  }

  @Test
  public void recordDataIsShownAsTextNeverAsMarkup() throws Exception {
    assertEquals(200, api("POST", "", "{\"id\":\"markup\",\"endUser\":\"allUsers\",\"backendUser\":\"agent@example.com\","
        + "\"pathPrefixes\":[\"/<b>agent</b>/\",\"/<img src=x onerror=window.injected=1>\"]}").statusCode());
    HeadlessChromium.Tab tab = signIn();
    String rows = tab.await(text("rows"), List.of("markup"), WAIT);
    assertTrue(rows, rows.contains("<b>agent</b>") && rows.contains("/<img src=x onerror=window.injected=1>"));
    assertEquals("0 0 undefined", tab.evaluate("document.querySelectorAll('#rows img').length + ' '"
        + " + document.querySelectorAll('#rows b').length + ' ' + typeof window.injected"));
  }
}
