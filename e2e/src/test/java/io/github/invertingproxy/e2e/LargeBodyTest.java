package io.github.invertingproxy.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.BodyFraming;
import io.github.invertingproxy.protocol.Headers;
import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageWriter;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * 200 MiB each way through the server and agent jars, each in its own JVM with a 64 MiB heap: any
 * whole-body buffering runs out of memory and ends the process.
 */
public class LargeBodyTest {
  private static final long SIZE = 200L << 20;
  private static final String HEAP = "64m";

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private RecordingBackend backend;
  private Process server;
  private Process agent;
  private int port;

  @Before
  public void start() throws Exception {
    backend = new RecordingBackend(LargeBodyTest::serve);
    backend.streamBodies(true);
    Path logs = tmp.getRoot().toPath();
    String url = Processes.startServer(HEAP, logs.resolve("server.log"));
    port = java.net.URI.create(url).getPort();
    int status = new ProcessBuilder(java(), "-jar", Processes.SERVER_JAR.toString(), "backends", "add", "--api",
        Processes.adminUrl(logs.resolve("server.log")),
        "--id", "big", "--end-user", "allUsers", "--backend-user", "agent@example.com", "--path-prefixes", "/")
        .inheritIO().start().waitFor();
    assertEquals("backends add exit status", 0, status);
    agent = Processes.startAgent(HEAP, logs.resolve("agent.log"), url, "big", backend.hostAndPort());
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      try (RawClient c = new RawClient(port)) {
        if (c.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n").response("GET").head().status() == 200) {
          break;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("agent did not connect within 30 s");
      }
      Thread.sleep(100);
    }
    server = null;
  }

  @After
  public void stop() throws Exception {
    Processes.killAll();
    backend.close();
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** GET /download streams SIZE pattern bytes; POST /upload answers the upload's SHA-256 and length. */
  private static void serve(RecordingBackend.Received r, InputStream body, OutputStream out) throws java.io.IOException {
    if (r.head().target().equals("/download")) {
      out.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(ISO_8859_1));
      try (OutputStream chunked = MessageWriter.openBody(out, BodyFraming.CHUNKED, Headers::empty)) {
        Pattern.write(chunked, SIZE);
      }
      return;
    }
    MessageDigest sha = sha256();
    long n = 0;
    byte[] buffer = new byte[64 * 1024];
    for (int read; (read = body.read(buffer)) >= 0; ) {
      sha.update(buffer, 0, read);
      n += read;
    }
    String answer = n + " " + HexFormat.of().formatHex(sha.digest());
    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + answer.length() + "\r\n\r\n" + answer).getBytes(ISO_8859_1));
  }

  @Test
  public void twoHundredMebibytesDownloadThroughSmallHeaps() throws Exception {
    try (RawClient client = new RawClient(port)) {
      IncomingMessage<ResponseHead> response = client.send("GET /download HTTP/1.1\r\nHost: x\r\n\r\n").response("GET");
      assertEquals(200, response.head().status());
      MessageDigest sha = sha256();
      long n = 0;
      byte[] buffer = new byte[64 * 1024];
      InputStream in = response.body();
      for (int read; (read = in.read(buffer)) >= 0; ) {
        sha.update(buffer, 0, read);
        n += read;
      }
      assertEquals(SIZE, n);
      assertEquals(Pattern.sha256(SIZE), HexFormat.of().formatHex(sha.digest()));
    }
    assertTrue("agent survived", agent.isAlive());
  }

  @Test
  public void twoHundredMebibytesUploadThroughSmallHeaps() throws Exception {
    try (RawClient client = new RawClient(port)) {
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + SIZE + "\r\n\r\n");
      Pattern.write(client.output(), SIZE);
      IncomingMessage<ResponseHead> response = client.response("POST");
      assertEquals(200, response.head().status());
      assertEquals(SIZE + " " + Pattern.sha256(SIZE), new String(response.body().readAllBytes(), ISO_8859_1));
    }
    assertTrue("agent survived", agent.isAlive());
  }

  @Test
  public void chunkedUploadOfTwoHundredMebibytesArrivesWhole() throws Exception {
    try (RawClient client = new RawClient(port)) {
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      try (OutputStream chunked = MessageWriter.openBody(client.output(), BodyFraming.CHUNKED, Headers::empty)) {
        Pattern.write(chunked, SIZE);
      }
      client.output().flush();
      IncomingMessage<ResponseHead> response = client.response("POST");
      assertEquals(SIZE + " " + Pattern.sha256(SIZE), new String(response.body().readAllBytes(), ISO_8859_1));
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** A deterministic byte pattern, so both ends can check a body without keeping it. */
  static final class Pattern {
    private static final byte[] BLOCK = new byte[64 * 1024];

    static {
      new java.util.Random(42).nextBytes(BLOCK);
    }

    static void write(OutputStream out, long size) throws java.io.IOException {
      for (long left = size; left > 0; ) {
        int n = (int) Math.min(BLOCK.length, left);
        out.write(BLOCK, 0, n);
        left -= n;
      }
    }

    static String sha256(long size) {
      MessageDigest sha = LargeBodyTest.sha256();
      for (long left = size; left > 0; ) {
        int n = (int) Math.min(BLOCK.length, left);
        sha.update(BLOCK, 0, n);
        left -= n;
      }
      return HexFormat.of().formatHex(sha.digest());
    }
  }
}
