package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;
import org.junit.Test;

public class FieldListTest {
  @Test
  public void elementsAreTrimmedOfSpacesAndTabsAndEmptyOnesAreLeftOut() {
    assertEquals(List.of("a", "b c", "d"), FieldList.elements(" a ,\tb c\t,, ,d,"));
    assertEquals(List.of(), FieldList.elements(""));
    assertEquals(List.of(), FieldList.elements(" , "));
    assertEquals(List.of("gzip;q=1.0"), FieldList.elements("gzip;q=1.0"));
  }

  @Test
  public void containsMatchesWholeElementsIgnoringCase() {
    assertTrue(FieldList.contains("keep-alive, Close", "close"));
    assertTrue(FieldList.contains("\tUPGRADE\t", "upgrade"));
    assertFalse(FieldList.contains("closed, enclose", "close"));
    assertFalse(FieldList.contains("", "close"));
    assertFalse(FieldList.contains(null, "close"));
  }

  @Test
  public void headersListTheElementsOfEveryFieldOfTheName() {
    Headers headers = Headers.of("Connection", "keep-alive, X-A", "Other", "close", "connection", " x-b ");
    assertEquals(List.of("keep-alive", "X-A", "x-b"), headers.elements("Connection"));
    assertTrue(headers.hasElement("CONNECTION", "x-b"));
    assertFalse(headers.hasElement("Connection", "close"));
  }
}
