package io.github.invertingproxy.server;

import io.github.invertingproxy.core.PlainText;
import java.io.IOException;
import java.util.Enumeration;
import javax.servlet.FilterChain;
import javax.servlet.ServletException;
import javax.servlet.http.HttpFilter;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Refuses requests with more header fields than allowed (431). Jetty bounds the total header size;
 * this bounds the count, which the size limit alone lets grow to thousands of tiny fields.
 */
final class HeaderCountLimit extends HttpFilter {
  private static final long serialVersionUID = 1L;
  private final int maxFields;

  HeaderCountLimit(int maxFields) {
    this.maxFields = maxFields;
  }

  @Override
  protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    int count = 0;
    for (Enumeration<String> names = request.getHeaderNames(); names.hasMoreElements(); ) {
      for (Enumeration<String> values = request.getHeaders(names.nextElement()); values.hasMoreElements(); values.nextElement()) {
        count++;
      }
    }
    if (count > maxFields) {
      PlainText.send(response, 431, "Request header fields too large: " + count + " fields, the limit is " + maxFields);
      return;
    }
    chain.doFilter(request, response);
  }
}
