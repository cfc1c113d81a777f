package io.github.invertingproxy.commandline.logging;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.Test;

/** A JVM (a separate one, with a small heap) that runs out of memory exits with code 3 at once. */
public class OutOfMemoryHaltTest {
  /** Runs out of memory on a thread of its own, the way given by its argument, and then idles. */
  public static final class Victim {
    public static void main(String[] args) throws Exception {
      OutOfMemoryHalt.install("victim", System.err);
      Thread t = new Thread(() -> {
        List<long[]> hoard = new ArrayList<>();
        try {
          while (true) {
            hoard.add(new long[1 << 16]);
          }
        } catch (OutOfMemoryError e) {
          hoard.clear();
          if (args[0].equals("logged")) {
            // What a thread pool does with a job's error: log it, and go on.
            Logger.getLogger("pool").log(Level.WARNING, "job failed", e);
            return;
          }
          throw e;
        }
      }, "allocator");
      t.start();
      t.join();
      Thread.sleep(60_000); // a zombie, unless halted
    }
  }

  private static void assertHalts(String how) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
        "-cp", System.getProperty("java.class.path"), Victim.class.getName(), how).redirectErrorStream(true).start();
    assertTrue("the JVM did not exit", p.waitFor(50, TimeUnit.SECONDS));
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(output, 3, p.exitValue());
    assertTrue(output, output.contains("victim: out of memory; exiting with code 3 so that it can be restarted"));
  }

  @Test(timeout = 60_000)
  public void aThreadThatDiesOfItEndsTheJvmWithCodeThree() throws Exception {
    assertHalts("thrown");
  }

  @Test(timeout = 60_000)
  public void anErrorThatIsOnlyLoggedEndsTheJvmWithCodeThree() throws Exception {
    assertHalts("logged");
  }
}
