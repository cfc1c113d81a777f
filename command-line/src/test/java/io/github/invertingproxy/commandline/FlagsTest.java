package io.github.invertingproxy.commandline;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class FlagsTest {
  @Test
  public void acceptsTheGoFlagSpellings() throws Exception {
    Flags flags = new Flags("p", "s", Map.of());
    Flags.Flag<String> a = flags.string("proxy", "", "x");
    Flags.Flag<Duration> t = flags.duration("proxy-timeout", Duration.ofSeconds(60), "x");
    Flags.Flag<Boolean> d = flags.bool("debug", false, "x");
    Flags.Flag<Integer> n = flags.integer("port", 8080, "x");
    List<String> rest = flags.parse("-proxy", "http://p/", "--proxy-timeout=2m", "--debug", "--port", "9", "extra");
    assertEquals("http://p/", a.get());
    assertEquals(Duration.ofMinutes(2), t.get());
    assertTrue(d.get());
    assertEquals(9, (int) n.get());
    assertEquals(List.of("extra"), rest);
  }

  @Test
  public void environmentIsAFallbackThatTheCommandLineOverrides() throws Exception {
    Flags flags = new Flags("p", "s", Map.of("PROXY", "http://env/", "PORT", "7"));
    Flags.Flag<String> a = flags.string("proxy", "", "x").env("PROXY");
    Flags.Flag<Integer> n = flags.integer("port", 8080, "x").env("PORT");
    flags.parse("--port=9");
    assertEquals("http://env/", a.get());
    assertEquals(9, (int) n.get());
  }

  @Test
  public void byteCountsTakeBinarySuffixes() throws Exception {
    Flags flags = new Flags("p", "s", Map.of());
    Flags.Flag<Long> a = flags.byteCount("a", 5, "x");
    Flags.Flag<Long> b = flags.byteCount("b", 5, "x");
    Flags.Flag<Long> c = flags.byteCount("c", 5, "x");
    Flags.Flag<Long> d = flags.byteCount("d", 5, "x");
    flags.parse("--a", "1000", "--b", "64KiB", "--c=3 MiB", "--d", "2GiB");
    assertEquals(1000L, (long) a.get());
    assertEquals(64L << 10, (long) b.get());
    assertEquals(3L << 20, (long) c.get());
    assertEquals(2L << 30, (long) d.get());
    try {
      flags.parse("--a", "12MB");
      org.junit.Assert.fail("12MB accepted");
    } catch (Flags.UsageException e) {
      assertEquals("invalid value for flag --a: not a byte count (digits, optionally KiB, MiB or GiB): \"12MB\"",
          e.getMessage());
    }
  }

  @Test
  public void errorsAreOneLineAndNameTheFlag() {
    Flags flags = new Flags("agent", "s", Map.of());
    flags.duration("proxy-timeout", Duration.ofSeconds(60), "x");
    Flags.UsageException e = assertThrows(Flags.UsageException.class, () -> flags.parse("--proxy-timeout=soon"));
    assertTrue(e.getMessage(), e.getMessage().startsWith("invalid value for flag --proxy-timeout"));
    assertFalse(e.getMessage().contains("\n"));
    e = assertThrows(Flags.UsageException.class, () -> flags.parse("--nope"));
    assertEquals("unknown flag --nope (run agent --help for the list)", e.getMessage());
    e = assertThrows(Flags.UsageException.class, () -> flags.parse("--help"));
    assertTrue(e.isHelp());
    assertTrue(e.getMessage().contains("--proxy-timeout duration"));
  }
}
