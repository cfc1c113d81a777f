package io.github.invertingproxy.agent.html;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.Test;

public class HtmlInjectionTest {
  private static final String SNIPPET = "<script>shim()</script>";
  private static final RequestHead PAGE_REQUEST = new RequestHead("GET", "/notebook", Headers.of(
      "Host", "proxy.example.com", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8",
      "Accept-Encoding", "gzip, deflate, br, zstd"));

  private final HtmlInjection injection = new HtmlInjection(List.of(HtmlSnippet.of(SNIPPET)));

  private static ResponseHead html(String... extraHeaders) {
    Headers headers = Headers.of("Content-Type", "text/html; charset=utf-8");
    for (int i = 0; i < extraHeaders.length; i += 2) {
      headers = headers.plus(new io.github.invertingproxy.protocol.HeaderField(extraHeaders[i], extraHeaders[i + 1]));
    }
    return new ResponseHead(200, "OK", headers);
  }

  private static ByteArrayInputStream body(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  private HtmlInjection.Page inject(ResponseHead head, InputStream body) throws IOException {
    return injection.inject(PAGE_REQUEST, head, body).orElseThrow(() -> new AssertionError("not injected"));
  }

  private static String text(HtmlInjection.Page page) throws IOException {
    return new String(page.body().readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  public void theSnippetGoesRightAfterTheOpeningHeadTag() throws IOException {
    String page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<title>T</title></head><body>x</body></html>";

    HtmlInjection.Page injected = inject(html(), body(page));

    assertEquals(page.replace("<head>", "<head>" + SNIPPET), text(injected));
  }

  @Test
  public void aHeadTagWithAttributesAndCapitalsIsFound() throws IOException {
    String page = "<HTML><Head data-x=\"a>b\" class='c'><title>T</title>";

    assertEquals("<HTML><Head data-x=\"a>b\" class='c'>" + SNIPPET + "<title>T</title>",
        text(inject(html(), body(page))));
  }

  @Test
  public void aHeadTagInsideALeadingCommentIsNotTheHead() throws IOException {
    String page = "<!-- <head> --><html><head><title>T</title>";

    assertEquals("<!-- <head> --><html><head>" + SNIPPET + "<title>T</title>", text(inject(html(), body(page))));
  }

  @Test
  public void aPageWithoutHeadGetsTheSnippetAfterTheDoctypeAndTheHtmlTag() throws IOException {
    String page = "<!doctype html><html><body><header>h</header></body></html>";

    assertEquals("<!doctype html><html>" + SNIPPET + "<body><header>h</header></body></html>",
        text(inject(html(), body(page))));
  }

  @Test
  public void aHeaderElementIsNotTakenForTheHead() throws IOException {
    String page = "<header>h</header><p>text</p>";

    assertEquals(SNIPPET + page, text(inject(html(), body(page))));
  }

  @Test
  public void aFragmentWithoutMarkupGetsTheSnippetAtTheStart() throws IOException {
    assertEquals(SNIPPET + "plain words", text(inject(html(), body("plain words"))));
  }

  @Test
  public void theSnippetFollowsAUtf8ByteOrderMark() throws IOException {
    String page = "\uFEFF<p>x</p>";

    assertEquals("\uFEFF" + SNIPPET + "<p>x</p>", text(inject(html(), body(page))));
  }

  @Test
  public void contentLengthGrowsByTheSnippetsBytes() throws IOException {
    String page = "<html><head></head><body>" + "x".repeat(40_000) + "</body></html>";
    int snippetBytes = SNIPPET.getBytes(StandardCharsets.UTF_8).length;

    HtmlInjection.Page injected = inject(html("Content-Length", Integer.toString(page.length())), body(page));

    assertEquals(new BodyFraming.Length(page.length() + snippetBytes), injected.framing());
    assertEquals(List.of(Integer.toString(page.length() + snippetBytes)), injected.head().headers().all("Content-Length"));
    assertEquals(page.length() + snippetBytes, injected.body().readAllBytes().length);
  }

  @Test
  public void aPageThatEndsWhileBeingScannedGetsAContentLength() throws IOException {
    HtmlInjection.Page injected = inject(html("Transfer-Encoding", "chunked"), body("<html><!-- empty -->"));

    assertEquals(new BodyFraming.Length(SNIPPET.length() + "<html><!-- empty -->".length()), injected.framing());
    assertFalse(injected.head().headers().contains("Transfer-Encoding"));
  }

  @Test
  public void aLongerChunkedPageStaysChunked() throws IOException {
    String page = "<html><head><title>T</title></head><body>" + "y".repeat(100_000) + "</body></html>";

    HtmlInjection.Page injected = inject(html("Transfer-Encoding", "chunked"), new TrickleStream(page, 4096));

    assertEquals(BodyFraming.CHUNKED, injected.framing());
    assertEquals(List.of("chunked"), injected.head().headers().all("Transfer-Encoding"));
    assertEquals(page.replace("<head>", "<head>" + SNIPPET), text(injected));
  }

  @Test
  public void aGzipPageIsDecodedInjectedAndSentWithoutContentCoding() throws IOException {
    String page = "<html><head><title>T</title></head><body>" + "z".repeat(50_000) + "</body></html>";
    byte[] gzipped = gzip(page);

    HtmlInjection.Page injected = inject(html("Content-Encoding", "gzip", "Content-Length",
        Integer.toString(gzipped.length), "ETag", "\"v1\"", "Accept-Ranges", "bytes"), new ByteArrayInputStream(gzipped));

    assertEquals(page.replace("<head>", "<head>" + SNIPPET), text(injected));
    assertFalse(injected.head().headers().contains("Content-Encoding"));
    assertFalse(injected.head().headers().contains("Content-Length"));
    assertFalse(injected.head().headers().contains("Accept-Ranges"));
    assertEquals(BodyFraming.CHUNKED, injected.framing());
    assertEquals(List.of("W/\"v1\""), injected.head().headers().all("ETag"));
  }

  @Test
  public void readingAGzipPageToItsEndReadsTheBackendsBodyToItsEnd() throws IOException {
    byte[] gzipped = gzip("<html><head></head><body>" + "q".repeat(30_000) + "</body></html>");
    ByteArrayInputStream raw = new ByteArrayInputStream(gzipped);

    inject(html("Content-Encoding", "gzip"), raw).body().readAllBytes();

    assertEquals(0, raw.available());
  }

  @Test
  public void decodingAPageNeverClosesTheBackendsStream() throws IOException {
    java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    InputStream raw = new java.io.FilterInputStream(new ByteArrayInputStream(gzip("<head></head>"))) {
      @Override
      public void close() {
        closed.set(true);
      }
    };

    HtmlInjection.Page page = inject(html("Content-Encoding", "gzip"), raw);
    page.body().readAllBytes();
    page.body().close();

    assertFalse("the exchange owns the backend's stream", closed.get());
  }

  @Test
  public void aZlibDeflatePageIsDecoded() throws IOException {
    String page = "<html><head></head><body>deflated</body></html>";

    HtmlInjection.Page injected = inject(html("Content-Encoding", "deflate"),
        new ByteArrayInputStream(deflate(page, false)));

    assertEquals(page.replace("<head>", "<head>" + SNIPPET), text(injected));
  }

  @Test
  public void aRawDeflatePageIsDecodedToo() throws IOException {
    String page = "<html><head></head><body>raw deflate</body></html>";

    HtmlInjection.Page injected = inject(html("Content-Encoding", "deflate"),
        new ByteArrayInputStream(deflate(page, true)));

    assertEquals(page.replace("<head>", "<head>" + SNIPPET), text(injected));
  }

  @Test
  public void aBrotliPagePassesUntouchedAndUnread() throws IOException {
    ByteArrayInputStream raw = new ByteArrayInputStream(new byte[] {1, 2, 3, 4});

    Optional<HtmlInjection.Page> page = injection.inject(PAGE_REQUEST, html("Content-Encoding", "br"), raw);

    assertFalse(page.isPresent());
    assertEquals(4, raw.available());
  }

  @Test
  public void aResponseThatIsNotHtmlPassesUntouched() throws IOException {
    ResponseHead json = new ResponseHead(200, "OK", Headers.of("Content-Type", "application/json"));

    assertFalse(injection.inject(PAGE_REQUEST, json, body("{\"a\":\"<head>\"}")).isPresent());
  }

  @Test
  public void aPartialResponsePassesUntouched() throws IOException {
    ResponseHead partial = new ResponseHead(206, "Partial Content", html().headers());

    assertFalse(injection.inject(PAGE_REQUEST, partial, body("<head>")).isPresent());
  }

  @Test
  public void aDownloadPassesUntouched() throws IOException {
    assertFalse(injection.inject(PAGE_REQUEST, html("Content-Disposition", "attachment; filename=a.html"),
        body("<head>")).isPresent());
  }

  @Test
  public void aResponseToHeadPassesUntouched() throws IOException {
    RequestHead head = new RequestHead("HEAD", "/", Headers.of("Host", "h"));

    assertFalse(injection.inject(head, html("Content-Length", "100"), InputStream.nullInputStream()).isPresent());
  }

  @Test
  public void snippetsGoInTheOrderTheyWereRegistered() throws IOException {
    HtmlInjection two = new HtmlInjection(List.of(HtmlSnippet.of("<a-first>"), HtmlSnippet.of("<b-second>")));

    HtmlInjection.Page page = two.inject(PAGE_REQUEST, html(), body("<head></head>")).orElseThrow();

    assertEquals("<head><a-first><b-second></head>", text(page));
  }

  @Test
  public void aSnippetThatDeclinesLeavesTheResponseUntouched() throws IOException {
    HtmlInjection declining = new HtmlInjection(List.of((request, response) -> ""));
    ByteArrayInputStream raw = body("<head></head>");

    assertFalse(declining.inject(PAGE_REQUEST, html(), raw).isPresent());
    assertEquals(13, raw.available());
  }

  @Test
  public void theSnippetIsEncodedInThePagesCharset() throws IOException {
    HtmlInjection latin = new HtmlInjection(List.of(HtmlSnippet.of("<meta name=\"x\" content=\"caf\u00e9\">")));
    ResponseHead head = new ResponseHead(200, "OK", Headers.of("Content-Type", "text/html; charset=ISO-8859-1"));

    byte[] out = latin.inject(PAGE_REQUEST, head, body("<head>")).orElseThrow().body().readAllBytes();

    assertEquals((byte) 0xE9, out[out.length - 3]);
    assertEquals("<head><meta name=\"x\" content=\"caf\u00e9\">", new String(out, StandardCharsets.ISO_8859_1));
  }

  @Test
  public void aUtf16PageIsNotInjected() throws IOException {
    ResponseHead head = new ResponseHead(200, "OK", Headers.of("Content-Type", "text/html; charset=UTF-16"));

    assertFalse(injection.inject(PAGE_REQUEST, head, body("<head>")).isPresent());
  }

  @Test
  public void injectionReturnsOnceTheHeadTagArrivesWithoutWaitingForTheRest() throws Exception {
    PipedOutputStream backend = new PipedOutputStream();
    PipedInputStream raw = new PipedInputStream(backend, 65536);
    backend.write("<html><head><title>slow</title>".getBytes(StandardCharsets.UTF_8));
    backend.flush();

    CompletableFuture<HtmlInjection.Page> page = CompletableFuture.supplyAsync(() -> {
      try {
        return inject(html("Transfer-Encoding", "chunked"), raw);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    HtmlInjection.Page injected = page.get(5, TimeUnit.SECONDS);
    byte[] start = new byte[64];
    int n = injected.body().read(start);
    assertEquals("<html><head>" + SNIPPET + "<title>slow</title>", new String(start, 0, n, StandardCharsets.UTF_8));
    backend.close();
  }

  @Test
  public void atMostTheScanLimitIsHeldWhenThereIsNoHeadTag() throws IOException {
    String page = "<!DOCTYPE html><!-- " + "c".repeat(200_000) + " -->";
    CountingStream raw = new CountingStream(body(page));

    HtmlInjection.Page injected = inject(html(), raw);

    assertTrue("read " + raw.count, raw.count <= HtmlInjection.SCAN_LIMIT);
    assertEquals("<!DOCTYPE html>" + SNIPPET + page.substring("<!DOCTYPE html>".length()), text(injected));
  }

  @Test
  public void aPageRequestOffersTheBackendOnlyCodingsThatCanBeDecoded() {
    RequestHead prepared = injection.prepareRequest(PAGE_REQUEST);

    assertEquals(List.of("gzip, deflate"), prepared.headers().all("Accept-Encoding"));
    assertEquals(PAGE_REQUEST.headers().all("Accept"), prepared.headers().all("Accept"));
  }

  @Test
  public void aRequestForSomethingOtherThanAPageKeepsItsAcceptEncoding() {
    RequestHead script = new RequestHead("GET", "/app.js", Headers.of("Accept", "*/*", "Accept-Encoding", "br"));

    assertSame(script, injection.prepareRequest(script));
  }

  @Test
  public void withoutSnippetsNothingIsTouched() throws IOException {
    HtmlInjection none = new HtmlInjection(List.of());

    assertSame(PAGE_REQUEST, none.prepareRequest(PAGE_REQUEST));
    assertFalse(none.inject(PAGE_REQUEST, html(), body("<head>")).isPresent());
  }

  static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  private static byte[] deflate(String text, boolean raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, raw);
    try (DeflaterOutputStream d = new DeflaterOutputStream(out, deflater)) {
      d.write(text.getBytes(StandardCharsets.UTF_8));
    }
    deflater.end();
    return out.toByteArray();
  }

  /** Hands out a page a few bytes at a time, as a network does. */
  private static final class TrickleStream extends InputStream {
    private final ByteArrayInputStream in;
    private final int step;

    TrickleStream(String text, int step) {
      this.in = body(text);
      this.step = step;
    }

    @Override
    public int read() {
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return in.read(b, off, Math.min(len, step));
    }
  }

  private static final class CountingStream extends InputStream {
    private final InputStream in;
    long count;

    CountingStream(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
