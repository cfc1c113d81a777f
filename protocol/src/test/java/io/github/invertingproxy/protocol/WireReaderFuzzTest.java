package io.github.invertingproxy.protocol;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/**
 * Mutates valid requests and responses byte by byte and reads each mutant. Every reading must either
 * refuse the input with the documented exception or give a message that
 * <ul>
 *   <li>a second reading, fed through reads of one to seven bytes, gives identically;
 *   <li>{@link MessageWriter} writes back to bytes that read as the same message;
 *   <li>has no more body than its framing allows;
 *   <li>equals the unmutated message with one body byte changed, when the mutation changed just one byte
 *       of body data.
 * </ul>
 * No case may hang: the input ends, so a reader waiting for more must refuse instead.
 *
 * <p>{@code -Dfuzz.cases=N} runs N cases (20,000 by default), {@code -Dfuzz.seed=S} starts from another
 * seed, {@code -Dfuzz.first=I} skips to case I; a failure names the flags that replay it.
 */
public class WireReaderFuzzTest {
  private static final long DEFAULT_SEED = 0x5eed_2026_1205L;
  private static final long CASE_DEADLINE_MILLIS = 10_000;
  private static final int MAX_REPORTED = 12;

  @Test
  public void everyMutatedMessageParsesConsistentlyOrIsRefused() throws Exception {
    long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
    long first = Long.getLong("fuzz.first", 0);
    long cases = Long.getLong("fuzz.cases", 20_000);
    List<WireCorpus.Sample> corpus = WireCorpus.samples();
    List<String> failures = new ArrayList<>();
    AtomicLong current = new AtomicLong(-1);
    AtomicLong startedNanos = new AtomicLong();
    long[] counts = new long[2];
    Thread worker = new Thread(() -> {
      for (long i = first; i < first + cases && failures.size() < MAX_REPORTED; i++) {
        startedNanos.set(System.nanoTime());
        current.set(i);
        Random random = new Random(seed ^ (i * 0x9E3779B97F4A7C15L));
        WireCorpus.Sample sample = corpus.get(random.nextInt(corpus.size()));
        WireMutator.Mutant mutant = WireMutator.mutate(sample, random);
        String problem;
        try {
          problem = check(sample, mutant, random, counts);
        } catch (RuntimeException | Error e) {
          problem = "the check itself failed: " + describe(e);
        }
        if (problem != null) {
          synchronized (failures) {
            failures.add(String.format("case %d (replay: -Dfuzz.seed=%d -Dfuzz.first=%d -Dfuzz.cases=1), "
                + "sample \"%s\", %s: %s%n    wire: %s", i, seed, i, sample.name(), mutant.description(), problem,
                printable(mutant.wire())));
          }
        }
      }
      current.set(Long.MAX_VALUE);
    }, "wire-fuzz");
    worker.setDaemon(true);
    worker.start();
    while (worker.isAlive()) {
      worker.join(100);
      long i = current.get();
      if (i >= 0 && i != Long.MAX_VALUE
          && System.nanoTime() - startedNanos.get() > TimeUnit.MILLISECONDS.toNanos(CASE_DEADLINE_MILLIS)
          && current.get() == i) {
        worker.interrupt();
        fail("case " + i + " (replay: -Dfuzz.seed=" + seed + " -Dfuzz.first=" + i + " -Dfuzz.cases=1) did not end within "
            + CASE_DEADLINE_MILLIS + " ms: the reader waits on an input that has ended");
      }
    }
    System.out.printf("wire fuzz: seed %d, cases %d from %d: %d parsed, %d refused%n",
        seed, cases, first, counts[0], counts[1]);
    synchronized (failures) {
      if (!failures.isEmpty()) {
        fail(failures.size() + " mutated messages were read inconsistently (seed " + seed + "):\n  "
            + String.join("\n  ", failures));
      }
    }
    assertTrue("no case parsed: the corpus or the mutator is broken", counts[0] > 0);
    assertTrue("no case was refused: the mutator changes nothing", counts[1] > 0);
  }

  /** Null when the mutant was read as the oracle allows, else what went wrong. */
  private static String check(WireCorpus.Sample sample, WireMutator.Mutant mutant, Random random, long[] counts) {
    String method = sample.requestMethod();
    WireReading whole = WireReading.of(mutant.wire(), method);
    WireReading trickled = WireReading.of(new Trickle(mutant.wire(), random.nextLong()), method);
    if (whole instanceof WireReading.Fault f) {
      return "unexpected exception " + describe(f.error()) + " in the " + f.stage();
    }
    if (trickled instanceof WireReading.Fault f) {
      return "unexpected exception " + describe(f.error()) + " in the " + f.stage() + " when read in small pieces";
    }
    if (whole instanceof WireReading.Refused) {
      counts[1]++;
      return trickled instanceof WireReading.Refused ? null
          : "refused when read whole (" + whole + ") but read in small pieces as " + trickled;
    }
    counts[0]++;
    WireReading.Parsed parsed = (WireReading.Parsed) whole;
    if (!parsed.equals(trickled)) {
      return "read whole as " + parsed + " but in small pieces as " + trickled;
    }
    String bound = framingBound(parsed, mutant.wire().length);
    if (bound != null) {
      return bound;
    }
    WireReading again;
    try {
      again = WireReading.of(parsed.write(), method);
    } catch (Exception e) {
      return "read as " + parsed + " but cannot be written back: " + describe(e);
    }
    if (!parsed.equals(again)) {
      return "read as " + parsed + " but written back and read again as " + again;
    }
    if (mutant.dataOffset() >= 0) {
      WireReading.Parsed expected = withBodyByte(sample, mutant.dataOffset(), mutant.wire()[mutant.dataOffset()]);
      if (!expected.equals(parsed)) {
        return "one body byte changed, expected " + expected + " but read " + parsed;
      }
    }
    return null;
  }

  private static String framingBound(WireReading.Parsed parsed, int wireLength) {
    long body = parsed.body().length;
    if (parsed.framing() instanceof BodyFraming.Length l && body != l.length()) {
      return "framing " + l + " but a body of " + body + " bytes";
    }
    if (parsed.framing() instanceof BodyFraming.None && body != 0) {
      return "no body framed but " + body + " bytes read";
    }
    if (body > wireLength) {
      return "a body of " + body + " bytes from " + wireLength + " bytes of input";
    }
    if (!(parsed.framing() instanceof BodyFraming.Chunked) && !parsed.trailers().equals(Headers.empty())) {
      return "trailers " + parsed.trailers() + " on a body framed " + parsed.framing();
    }
    return null;
  }

  /** The sample's own reading with the body byte at wire offset {@code at} replaced by {@code b}. */
  private static WireReading.Parsed withBodyByte(WireCorpus.Sample sample, int at, byte b) {
    WireReading.Parsed original = (WireReading.Parsed) sample.expected();
    byte[] body = original.body().clone();
    int index = 0;
    for (int[] region : sample.dataRegions()) {
      if (at < region[1]) {
        body[index + at - region[0]] = b;
        break;
      }
      index += region[1] - region[0];
    }
    return new WireReading.Parsed(original.head(), original.framing(), body, original.trailers());
  }

  private static String describe(Throwable t) {
    StackTraceElement[] trace = t.getStackTrace();
    return t + (trace.length > 0 ? " at " + trace[0] : "");
  }

  private static String printable(byte[] wire) {
    StringBuilder b = new StringBuilder();
    for (byte x : wire) {
      int c = x & 0xff;
      if (c == '\r') {
        b.append("\\r");
      } else if (c == '\n') {
        b.append("\\n");
      } else if (c < 0x20 || c >= 0x7f || c == '\\') {
        b.append(String.format("\\x%02x", c));
      } else {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  /** The bytes in reads of one to seven bytes, as a slow peer's packets arrive; then the end. */
  private static final class Trickle extends InputStream {
    private final ByteArrayInputStream bytes;
    private final Random sizes;

    Trickle(byte[] wire, long seed) {
      this.bytes = new ByteArrayInputStream(wire);
      this.sizes = new Random(seed);
    }

    @Override
    public int read() {
      return bytes.read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return len == 0 ? 0 : bytes.read(b, off, Math.min(len, 1 + sizes.nextInt(7)));
    }
  }
}
