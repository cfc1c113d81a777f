package io.github.invertingproxy.agent.html;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.HeaderField;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Inserts {@link HtmlSnippet}s into the backend's HTML pages as they stream to the proxy.
 *
 * <p>Which responses: a status of 2xx other than 204, 205 and 206, to any method but {@code HEAD};
 * {@code Content-Type} {@code text/html} or {@code application/xhtml+xml}; not a download
 * ({@code Content-Disposition: attachment}); content coding none, {@code gzip} or {@code deflate}
 * (a page in any other coding, such as {@code br}, passes untouched); an ASCII-compatible charset.
 * Each snippet then decides for itself, and may return {@code ""}.
 *
 * <p>Where: the snippets, in the order registered, go right after the opening {@code <head>} tag, so
 * that a script among them runs before the page's own scripts. A page without a {@code <head>} tag gets
 * them after its doctype, leading comments and {@code <html>} tag (never before the doctype, which
 * would switch the page to quirks mode).
 *
 * <p>How: only the page's first bytes are held, until the {@code <head>} tag or {@value #SCAN_LIMIT}
 * bytes, whichever comes first; the rest streams through. A gzip or deflate page is decoded and sent
 * without content coding; {@code Content-Length} is corrected when the length is known, else the page
 * is sent chunked; a strong {@code ETag} becomes weak and {@code Accept-Ranges} is dropped, because the
 * bytes are no longer the backend's. To make injection possible on backends that prefer brotli,
 * {@link #prepareRequest} lets a browser's page request offer only the codings this class decodes.
 */
public final class HtmlInjection {
  /** The most bytes of a page held while looking for its {@code <head>} tag. */
  public static final int SCAN_LIMIT = 16 * 1024;

  static final int READ_SIZE = 8 * 1024;
  private static final List<String> DECODABLE = List.of("gzip", "x-gzip", "deflate", "identity");

  private final List<HtmlSnippet> snippets;

  /** @param snippets inserted in this order; none makes every method here a no-op */
  public HtmlInjection(List<HtmlSnippet> snippets) {
    requireNonNull(snippets, "snippets");
    this.snippets = List.copyOf(snippets);
  }

  /** True when there is nothing to inject, so responses need not be looked at. */
  public boolean isEmpty() {
    return snippets.isEmpty();
  }

  /**
   * The request as the backend should get it: unchanged, except that a {@code GET} accepting
   * {@code text/html} offers only the content codings this class can decode (gzip, deflate).
   */
  public RequestHead prepareRequest(RequestHead request) {
    requireNonNull(request, "request");
    if (snippets.isEmpty() || !request.method().equals("GET")
        || request.headers().all("Accept").stream().noneMatch(a -> a.toLowerCase(Locale.ROOT).contains("text/html"))
        || !request.headers().contains("Accept-Encoding")) {
      return request;
    }
    List<String> kept = new ArrayList<>();
    boolean dropped = false;
    for (String coding : request.headers().elements("Accept-Encoding")) {
      String name = coding.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      if (DECODABLE.contains(name)) {
        kept.add(coding);
      } else {
        dropped = true;
      }
    }
    if (!dropped) {
      return request;
    }
    Headers headers = request.headers().without(f -> f.is("Accept-Encoding"));
    if (!kept.isEmpty()) {
      headers = replaceAt(request.headers(), "Accept-Encoding", String.join(", ", kept));
    }
    return new RequestHead(request.method(), request.target(), headers);
  }

  /**
   * Inserts the snippets into one response, reading the first bytes of its body to find the place.
   *
   * @param request the request as the backend received it
   * @param response the backend's response head; its framing headers ({@code Content-Length} or
   *     {@code Transfer-Encoding: chunked}) describe {@code body}
   * @param body the response body with its transfer coding (chunks) removed but its content coding
   *     intact
   * @return the page to send instead, or empty when this response is not touched (then nothing was
   *     read from {@code body})
   * @throws IOException when reading the body's first bytes fails, or a gzip or deflate body is corrupt
   */
  // Whole on purpose: its early returns read top to bottom as the list of responses left untouched.
  public Optional<Page> inject(RequestHead request, ResponseHead response, InputStream body) throws IOException {
    requireNonNull(request, "request");
    requireNonNull(response, "response");
    requireNonNull(body, "body");
    if (snippets.isEmpty() || !qualifies(request, response)) {
      return Optional.empty();
    }
    Charset charset = charsetOf(response.headers());
    String coding = contentCoding(response.headers());
    if (charset == null || coding == null) {
      return Optional.empty();
    }
    StringBuilder html = new StringBuilder();
    for (HtmlSnippet snippet : snippets) {
      html.append(requireNonNull(snippet.htmlFor(request, response), "snippet returned null"));
    }
    if (html.length() == 0) {
      return Optional.empty();
    }
    byte[] insert = html.toString().getBytes(charset);

    boolean decoded = !coding.equals("identity");
    InputStream content = decoded ? decoder(coding, new NonClosing(body)) : body;
    byte[] prefix = new byte[Math.min(SCAN_LIMIT, READ_SIZE)];
    int length = 0;
    boolean ended = false;
    int at;
    while (true) {
      if (length == prefix.length && prefix.length < SCAN_LIMIT) {
        prefix = Arrays.copyOf(prefix, Math.min(SCAN_LIMIT, prefix.length * 2));
      }
      if (length == prefix.length) {
        at = InsertionPoint.find(prefix, length, true);
        break;
      }
      int n = content.read(prefix, length, prefix.length - length);
      if (n < 0) {
        ended = true;
        at = InsertionPoint.find(prefix, length, true);
        break;
      }
      length += n;
      at = InsertionPoint.find(prefix, length, false);
      if (at != InsertionPoint.NEED_MORE) {
        break;
      }
    }
    if (startsWithUtf16Mark(prefix, length)) {
      insert = new byte[0]; // a byte-order mark says UTF-16 whatever the header says: insert nothing
    }

    byte[] first = new byte[length + insert.length];
    System.arraycopy(prefix, 0, first, 0, at);
    System.arraycopy(insert, 0, first, at, insert.length);
    System.arraycopy(prefix, at, first, at + insert.length, length - at);

    Headers headers = response.headers().without(f -> f.is("Content-Length") || f.is("Transfer-Encoding"));
    if (decoded) {
      headers = headers.without(f -> f.is("Content-Encoding"));
    }
    if (decoded || insert.length > 0) {
      headers = headers.without(f -> f.is("Accept-Ranges"));
      Optional<String> etag = response.headers().first("ETag");
      if (etag.isPresent() && !etag.get().startsWith("W/")) {
        headers = replaceAt(headers, "ETag", "W/" + etag.get());
      }
    }
    long originalLength = contentLength(response.headers());
    BodyFraming framing;
    if (ended) {
      framing = new BodyFraming.Length(first.length);
    } else if (!decoded && originalLength >= 0) {
      framing = new BodyFraming.Length(originalLength + insert.length);
    } else {
      framing = BodyFraming.CHUNKED;
    }
    headers = framing instanceof BodyFraming.Length l
        ? headers.plus(new HeaderField("Content-Length", Long.toString(l.length())))
        : headers.plus(new HeaderField("Transfer-Encoding", "chunked"));
    ResponseHead head = new ResponseHead(response.status(), response.reason(), headers);
    return Optional.of(new Page(head, framing, new InjectedBody(first, content, body, ended),
        insert.length > 0));
  }

  /**
   * A page after injection.
   *
   * @param head the response head to send, with framing headers that match {@code framing}
   * @param body the page: the first bytes with the snippets in place, then the rest as it arrives;
   *     reading it to its end also reads the backend's body to its end
   * @param injected false when the page was only decoded (it turned out to be UTF-16)
   */
  public record Page(ResponseHead head, BodyFraming framing, InputStream body, boolean injected) {}

  private static boolean qualifies(RequestHead request, ResponseHead response) {
    int status = response.status();
    if (request.method().equals("HEAD") || status < 200 || status > 299 || status == 204 || status == 205
        || status == 206) {
      return false;
    }
    for (String disposition : response.headers().all("Content-Disposition")) {
      if (disposition.toLowerCase(Locale.ROOT).contains("attachment")) {
        return false;
      }
    }
    String type = response.headers().first("Content-Type").orElse("");
    String mediaType = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return mediaType.equals("text/html") || mediaType.equals("application/xhtml+xml");
  }

  /** The page's charset, UTF-8 when unnamed or unknown; null when not ASCII-compatible (UTF-16, UTF-32). */
  static Charset charsetOf(Headers headers) {
    String type = headers.first("Content-Type").orElse("");
    for (String parameter : type.split(";")) {
      String[] pair = parameter.split("=", 2);
      if (pair.length == 2 && pair[0].trim().equalsIgnoreCase("charset")) {
        String name = pair[1].trim().replace("\"", "");
        Charset charset;
        try {
          charset = Charset.forName(name);
        } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
          return StandardCharsets.UTF_8;
        }
        byte[] probe = "<h".getBytes(charset);
        return probe.length == 2 && probe[0] == '<' && probe[1] == 'h' ? charset : null;
      }
    }
    return StandardCharsets.UTF_8;
  }

  /** {@code identity}, {@code gzip} or {@code deflate}; null for a coding (or a chain) not decoded here. */
  private static String contentCoding(Headers headers) {
    List<String> codings = new ArrayList<>();
    for (String coding : headers.elements("Content-Encoding")) {
      String name = coding.toLowerCase(Locale.ROOT);
      if (!name.equals("identity")) {
        codings.add(name);
      }
    }
    if (codings.isEmpty()) {
      return "identity";
    }
    if (codings.size() > 1) {
      return null;
    }
    return switch (codings.get(0)) {
      case "gzip", "x-gzip" -> "gzip";
      case "deflate" -> "deflate";
      default -> null;
    };
  }

  private static long contentLength(Headers headers) {
    try {
      return headers.first("Content-Length").map(v -> Long.parseLong(v.trim())).orElse(-1L);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static InputStream decoder(String coding, InputStream body) throws IOException {
    if (coding.equals("gzip")) {
      return new GZIPInputStream(body, READ_SIZE);
    }
    // "deflate" is zlib-wrapped (RFC 9110 8.4.1.2), but some servers send raw deflate: the header tells.
    PushbackInputStream in = new PushbackInputStream(body, 2);
    byte[] header = in.readNBytes(2);
    in.unread(header);
    boolean zlib = header.length == 2 && (header[0] & 0x0f) == 8
        && (((header[0] & 0xff) << 8) | (header[1] & 0xff)) % 31 == 0;
    return new InflaterInputStream(in, new Inflater(!zlib), READ_SIZE) {
      private boolean ended;

      @Override
      public void close() throws IOException {
        if (!ended) {
          ended = true;
          inf.end(); // native memory, not only heap: free it now rather than at some later GC
        }
      }
    };
  }

  private static boolean startsWithUtf16Mark(byte[] page, int length) {
    return length >= 2 && ((page[0] == (byte) 0xFE && page[1] == (byte) 0xFF)
        || (page[0] == (byte) 0xFF && page[1] == (byte) 0xFE));
  }

  /** {@code headers} with the first {@code name} field's value replaced and its other fields dropped. */
  private static Headers replaceAt(Headers headers, String name, String value) {
    List<HeaderField> fields = new ArrayList<>(headers.size());
    boolean placed = false;
    for (HeaderField f : headers) {
      if (!f.is(name)) {
        fields.add(f);
      } else if (!placed) {
        fields.add(new HeaderField(f.name(), value));
        placed = true;
      }
    }
    return Headers.of(fields);
  }

  /** The backend's stream under a decoder, whose close must not end the backend's stream too. */
  private static final class NonClosing extends FilterInputStream {
    NonClosing(InputStream in) {
      super(in);
    }

    @Override
    public void close() {
      // The stream belongs to the exchange, which decides what happens to its connection.
    }
  }
}
