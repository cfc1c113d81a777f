package io.github.invertingproxy.agent.html;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * {@code --inject-banner} and {@code --banner-height}: a banner of the operator's HTML, fixed at the
 * top of every page that a browser opens (a {@code GET} accepting {@code text/html}, answered 200, not
 * inside a frame: the original's rules), with the page pushed down by the banner's height.
 *
 * <p>The original agent wrapped each page in a frame under the banner, so every page loaded twice. This
 * banner goes into the page itself: the snippet in {@code <head>} holds the banner in a
 * {@code <template>} and a small script moves it to the top of {@code <body>} once that exists. A page
 * whose Content-Security-Policy forbids inline scripts shows no banner, but works as before.
 */
public final class Banner implements HtmlSnippet {
  /** A CSS length: a number and a unit, as the original's default {@code 40px}. */
  private static final Pattern CSS_LENGTH =
      Pattern.compile("(\\d+(\\.\\d+)?|\\.\\d+)(px|em|rem|ex|ch|vh|vw|vmin|vmax|pt|pc|cm|mm|in|%)");
  static final String ELEMENT_ID = "inverting-proxy-banner";

  private final String snippet;

  /**
   * @param html the banner's HTML, as the operator wrote it
   * @param height a CSS length such as {@code 40px}
   * @throws IllegalArgumentException when {@code height} is not a CSS length
   */
  public Banner(String html, String height) {
    requireNonNull(html, "html");
    requireNonNull(height, "height");
    String h = height.trim().toLowerCase(Locale.ROOT);
    if (!CSS_LENGTH.matcher(h).matches()) {
      throw new IllegalArgumentException("banner height \"" + height + "\" is not a CSS length such as 40px");
    }
    this.snippet = "<style>html{margin-top:" + h + " !important}"
        + "#" + ELEMENT_ID + "{position:fixed;top:0;left:0;right:0;height:" + h
        + ";overflow:hidden;z-index:2147483647;margin:0;padding:0;background:#fff}</style>"
        + "<template id=\"" + ELEMENT_ID + "-content\">" + html + "</template>"
        + "<script>(function(){function show(){var t=document.getElementById('" + ELEMENT_ID + "-content');"
        + "if(!t||!document.body||document.getElementById('" + ELEMENT_ID + "'))return;"
        + "var d=document.createElement('div');d.id='" + ELEMENT_ID + "';d.appendChild(t.content.cloneNode(true));"
        + "document.body.insertBefore(d,document.body.firstChild);}"
        + "if(document.body){show();}else{document.addEventListener('DOMContentLoaded',show);}})();</script>";
  }

  @Override
  public String htmlFor(RequestHead request, ResponseHead response) {
    return isTopLevelPage(request) && response.status() == 200 ? snippet : "";
  }

  /**
   * A page the browser opens in a window, as opposed to a fetch or a frame: {@code GET}, accepting
   * {@code text/html}, and not said to be framed by {@code Sec-Fetch-Dest} or {@code Sec-Fetch-Mode}.
   */
  static boolean isTopLevelPage(RequestHead request) {
    if (!request.method().equals("GET")) {
      return false;
    }
    boolean acceptsHtml = request.headers().all("Accept").stream()
        .anyMatch(a -> a.toLowerCase(Locale.ROOT).contains("text/html"));
    String dest = request.headers().first("Sec-Fetch-Dest").orElse("");
    String mode = request.headers().first("Sec-Fetch-Mode").orElse("");
    return acceptsHtml && !dest.equalsIgnoreCase("iframe") && !dest.equalsIgnoreCase("frame")
        && !mode.equalsIgnoreCase("nested-navigate");
  }
}
