package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * What the runner needs from one service's WAR descriptors: its App Engine service name
 * ({@code appengine-web.xml}) and its listeners, context parameters and HTTPS-only URL patterns
 * ({@code web.xml}), which is all our {@code web.xml} files declare. The runner serves plain HTTP
 * and only reports the HTTPS-only patterns; App Engine enforces them.
 */
public final class ServiceDescriptor {
  private final String service;
  private final List<String> listenerClasses;
  private final Map<String, String> contextParameters;
  private final List<String> httpsOnlyPatterns;

  private ServiceDescriptor(String service, List<String> listenerClasses, Map<String, String> contextParameters,
      List<String> httpsOnlyPatterns) {
    this.service = service;
    this.listenerClasses = List.copyOf(listenerClasses);
    this.contextParameters = Map.copyOf(contextParameters);
    this.httpsOnlyPatterns = List.copyOf(httpsOnlyPatterns);
  }

  /** Reads the descriptors of {@code module} as the runner jar bundles them. */
  public static ServiceDescriptor bundled(String module) throws IOException {
    String base = "/appengine/services/" + module + "/";
    try (InputStream appengineWeb = resource(base + "appengine-web.xml");
        InputStream web = resource(base + "web.xml")) {
      return read(module, appengineWeb, web);
    }
  }

  public static ServiceDescriptor read(String module, InputStream appengineWebXml, InputStream webXml)
      throws IOException {
    requireNonNull(module, "module");
    Document appengine = parse(appengineWebXml, module + " appengine-web.xml");
    String service = text(appengine.getDocumentElement(), "service");
    if (service == null) {
      service = text(appengine.getDocumentElement(), "module"); // the element's older name
    }
    if (service == null) {
      service = DispatchRules.DEFAULT_SERVICE;
    }
    Document web = parse(webXml, module + " web.xml");
    List<String> listeners = new ArrayList<>();
    NodeList ls = web.getElementsByTagNameNS("*", "listener-class");
    for (int i = 0; i < ls.getLength(); i++) {
      listeners.add(ls.item(i).getTextContent().trim());
    }
    Map<String, String> params = new LinkedHashMap<>();
    NodeList ps = web.getElementsByTagNameNS("*", "context-param");
    for (int i = 0; i < ps.getLength(); i++) {
      Element p = (Element) ps.item(i);
      params.put(text(p, "param-name"), text(p, "param-value"));
    }
    return new ServiceDescriptor(service, listeners, params, httpsOnlyPatterns(web));
  }

  /** The URL patterns of the security constraints that demand a confidential (HTTPS) transport. */
  private static List<String> httpsOnlyPatterns(Document web) {
    List<String> patterns = new ArrayList<>();
    NodeList constraints = web.getElementsByTagNameNS("*", "security-constraint");
    for (int i = 0; i < constraints.getLength(); i++) {
      Element constraint = (Element) constraints.item(i);
      String guarantee = text(constraint, "transport-guarantee");
      if (!"CONFIDENTIAL".equals(guarantee) && !"INTEGRAL".equals(guarantee)) {
        continue;
      }
      NodeList urls = constraint.getElementsByTagNameNS("*", "url-pattern");
      for (int j = 0; j < urls.getLength(); j++) {
        patterns.add(urls.item(j).getTextContent().trim());
      }
    }
    return patterns;
  }

  /** The App Engine service name, as {@code dispatch.yaml} names it. */
  public String service() {
    return service;
  }

  public List<String> listenerClasses() {
    return listenerClasses;
  }

  public Map<String, String> contextParameters() {
    return contextParameters;
  }

  /**
   * The URL patterns that App Engine serves over HTTPS only ({@code <transport-guarantee>} of a
   * {@code <security-constraint>}); the runner does not enforce them.
   */
  public List<String> httpsOnlyPatterns() {
    return httpsOnlyPatterns;
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = ServiceDescriptor.class.getResourceAsStream(name);
    if (in == null) {
      throw new IOException("the runner jar lacks " + name + "; rebuild it with mvn install");
    }
    return in;
  }

  private static Document parse(InputStream in, String what) throws IOException {
    requireNonNull(in, what);
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      return f.newDocumentBuilder().parse(in);
    } catch (ParserConfigurationException | SAXException e) {
      throw new IOException("cannot parse " + what + ": " + e.getMessage(), e);
    }
  }

  private static String text(Element parent, String child) {
    NodeList nodes = parent.getElementsByTagNameNS("*", child);
    return nodes.getLength() == 0 ? null : nodes.item(0).getTextContent().trim();
  }
}
