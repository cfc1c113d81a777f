package io.github.invertingproxy.agent;

import static io.github.invertingproxy.agent.ForwardingAgentTest.bytes;
import static io.github.invertingproxy.agent.ForwardingAgentTest.concat;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.agent.html.Banner;
import io.github.invertingproxy.agent.html.FaviconLink;
import io.github.invertingproxy.agent.html.HtmlSnippet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

/** HTML injection through the whole agent: a scripted proxy and a raw backend on real sockets. */
public class PageInjectionTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final String SNIPPET = "<script src=\"/shim.js\"></script>";
  private static final String PAGE_REQUEST = "GET /page HTTP/1.1\r\nHost: proxy.example.com\r\n"
      + "Accept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n";

  @Rule public final AgentPeers peers = new AgentPeers();

  private ScriptedProxy proxy;
  private RawBackend backend;

  @Before
  public void startPeers() {
    proxy = peers.proxy;
    backend = peers.backend;
  }

  private void startAgent(Consumer<ForwardingAgent.Builder> options) {
    peers.start(options);
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  @Test
  public void aGzipPageReachesTheProxyDecodedWithTheSnippetAfterHead() throws Exception {
    String page = "<!DOCTYPE html><html><head><title>T</title></head><body>" + "p".repeat(20_000) + "</body></html>";
    byte[] gzipped = gzip(page);
    byte[] response = concat(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
        + "Content-Length: " + gzipped.length + "\r\n\r\n"), gzipped);
    backend.respondWith((request, out) -> {
      out.write(response);
      return true;
    });
    startAgent(b -> b.injectHtml(HtmlSnippet.of(SNIPPET)));
    proxy.enqueue("r1", bytes(PAGE_REQUEST));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertNull(posted.error);
    assertEquals("Chunked", posted.framing);
    assertFalse(posted.head.headers().contains("Content-Encoding"));
    assertEquals(page.replace("<head>", "<head>" + SNIPPET), posted.bodyText());
  }

  @Test
  public void aPageRequestOffersTheBackendOnlyCodingsTheAgentCanDecode() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<head>");
    startAgent(b -> b.injectHtml(HtmlSnippet.of(SNIPPET)));
    proxy.enqueue("r1", bytes(PAGE_REQUEST));

    RawBackend.Received received = backend.awaitRequest(WAIT);

    assertEquals(List.of("gzip, deflate"), received.head().headers().all("Accept-Encoding"));
  }

  @Test
  public void anUncompressedPageKeepsAContentLengthThatCountsTheSnippet() throws Exception {
    String page = "<html><head></head><body>" + "b".repeat(30_000) + "</body></html>";
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
        + page.length() + "\r\n\r\n" + page);
    startAgent(b -> b.injectHtml(HtmlSnippet.of(SNIPPET)));
    proxy.enqueue("r1", bytes(PAGE_REQUEST));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals("Length", posted.framing);
    assertEquals(List.of(Integer.toString(page.length() + SNIPPET.length())),
        posted.head.headers().all("Content-Length"));
    assertEquals(page.replace("<head>", "<head>" + SNIPPET), posted.bodyText());
  }

  @Test
  public void theBackendConnectionIsKeptAfterAnInjectedGzipPage() throws Exception {
    byte[] gzipped = gzip("<html><head></head><body>kept</body></html>");
    byte[] response = concat(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
        + "Content-Length: " + gzipped.length + "\r\n\r\n"), gzipped);
    backend.respondWith((request, out) -> {
      out.write(response);
      return true;
    });
    startAgent(b -> b.injectHtml(HtmlSnippet.of(SNIPPET)));

    proxy.enqueue("r1", bytes(PAGE_REQUEST));
    proxy.awaitResponse("r1", WAIT);
    peers.awaitIdleBackendConnections(1);
    proxy.enqueue("r2", bytes(PAGE_REQUEST));
    ScriptedProxy.PostedResponse second = proxy.awaitResponse("r2", WAIT);

    assertTrue(second.bodyText(), second.bodyText().contains(SNIPPET));
    assertEquals(1, backend.connections());
  }

  @Test
  public void aResponseThatIsNotHtmlIsRelayedByteForByte() throws Exception {
    byte[] body = {'{', '"', '<', 'h', 'e', 'a', 'd', '>', '"', '}', 0, (byte) 0xff};
    byte[] response = concat(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + body.length + "\r\n\r\n"), body);
    backend.respondWith((request, out) -> {
      out.write(response);
      return true;
    });
    startAgent(b -> b.injectHtml(HtmlSnippet.of(SNIPPET)));
    proxy.enqueue("r1", bytes(PAGE_REQUEST));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertArrayEquals(body, posted.body());
    assertEquals(List.of(Integer.toString(body.length)), posted.head.headers().all("Content-Length"));
  }

  @Test
  public void theBannerAndFaviconGoIntoAPageTheBrowserOpens() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<head></head>");
    startAgent(b -> b.injectHtml(new Banner("<b>Notebook</b>", "30px")).injectHtml(new FaviconLink("/icon.png")));
    proxy.enqueue("r1", bytes(PAGE_REQUEST));

    String body = proxy.awaitResponse("r1", WAIT).bodyText();

    assertTrue(body, body.startsWith("<head><style>html{margin-top:30px !important}"));
    assertTrue(body, body.contains("<template id=\"inverting-proxy-banner-content\"><b>Notebook</b></template>"));
    assertTrue(body, body.contains("<link rel=\"icon\" id=\"inverting-proxy-favicon\" href=\"/icon.png\">"));
    assertTrue(body, body.endsWith("</script></head>"));
  }

  @Test
  public void theBannerStaysOutOfAPageOpenedInAFrame() throws Exception {
    backend.respondWith("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<head></head>");
    startAgent(b -> b.injectHtml(new Banner("<b>Notebook</b>", "30px")));
    proxy.enqueue("r1", bytes("GET /framed HTTP/1.1\r\nHost: h\r\nAccept: text/html\r\nSec-Fetch-Dest: iframe\r\n\r\n"));

    ScriptedProxy.PostedResponse posted = proxy.awaitResponse("r1", WAIT);

    assertEquals("<head></head>", posted.bodyText());
  }
}
