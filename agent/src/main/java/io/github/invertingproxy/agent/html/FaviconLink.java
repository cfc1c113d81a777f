package io.github.invertingproxy.agent.html;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.RequestHead;
import io.github.invertingproxy.protocol.ResponseHead;

/**
 * {@code --favicon-url}: the icon a browser shows for the backend's pages. The original showed it
 * only with a banner; here it stands alone. The link goes first in {@code <head>} and a small script
 * moves it last once the page is parsed, because browsers use the last icon a page declares.
 */
public final class FaviconLink implements HtmlSnippet {
  private static final String ELEMENT_ID = "inverting-proxy-favicon";

  private final String snippet;

  /** @param url the icon's URL, absolute or relative to the page */
  public FaviconLink(String url) {
    requireNonNull(url, "url");
    if (url.isBlank()) {
      throw new IllegalArgumentException("favicon URL is empty");
    }
    this.snippet = "<link rel=\"icon\" id=\"" + ELEMENT_ID + "\" href=\"" + escapeAttribute(url.trim()) + "\">"
        + "<script>document.addEventListener('DOMContentLoaded',function(){var l=document.getElementById('"
        + ELEMENT_ID + "');if(l&&document.head){document.head.appendChild(l);}});</script>";
  }

  @Override
  public String htmlFor(RequestHead request, ResponseHead response) {
    return Banner.isTopLevelPage(request) && response.status() == 200 ? snippet : "";
  }

  static String escapeAttribute(String text) {
    StringBuilder b = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
