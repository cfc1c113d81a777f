package io.github.invertingproxy.agent.forward;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class RecentRequestIdsTest {
  @Test
  public void anIdStartsOnlyOnce() {
    RecentRequestIds ids = new RecentRequestIds(10);

    assertTrue(ids.markStarted("a"));
    assertFalse(ids.markStarted("a"));
  }

  @Test
  public void onlyTheMostRecentIdsAreRemembered() {
    RecentRequestIds ids = new RecentRequestIds(RecentRequestIds.DEFAULT_CAPACITY);
    for (int i = 0; i < 5000; i++) {
      ids.markStarted("id-" + i);
    }

    assertEquals(1000, ids.size());
    assertFalse(ids.markStarted("id-4999"));
    assertTrue(ids.markStarted("id-0"));
  }

  @Test
  public void anIdListedAgainStaysRemembered() {
    RecentRequestIds ids = new RecentRequestIds(2);
    ids.markStarted("old");
    ids.markStarted("new");

    ids.markStarted("old"); // listed again: now the most recent
    ids.markStarted("newest");

    assertFalse(ids.markStarted("old"));
  }
}
