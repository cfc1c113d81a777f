package io.github.invertingproxy.agent;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.github.invertingproxy.protocol.ChannelFrame;
import io.github.invertingproxy.protocol.RequestStartTime;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Test;

/**
 * A proxy pushes more requests over the channel than a stalled backend takes: the agent holds no
 * more of them than its buffer limit, reads the channel no further meanwhile, and takes the rest
 * once the backend moves again.
 */
public class ChannelBackPressureTest {
  private static final int BODY = 60 * 1024;
  private static final int REQUESTS = 40;
  private static final long LIMIT = 1 << 20;

  /** Accepts connections and answers nothing while stalled; afterwards closes each at once. */
  private final ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  private final List<Socket> stalled = new CopyOnWriteArrayList<>();
  private volatile boolean stalling = true;
  private ChannelProxy proxy;
  private ForwardingAgent agent;

  public ChannelBackPressureTest() throws IOException {
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          Socket s = backend.accept();
          if (stalling) {
            stalled.add(s);
          } else {
            s.close();
          }
        }
      } catch (IOException e) {
        // closed
      }
    }, "stalled-backend");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @After
  public void stop() throws Exception {
    stalling = false;
    for (Socket s : stalled) {
      s.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    backend.close();
  }

  private static ChannelFrame.Request request(int i) {
    String head = "POST /n/" + i + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + BODY + "\r\n\r\n";
    byte[] wire = new byte[head.length() + BODY];
    System.arraycopy(head.getBytes(StandardCharsets.ISO_8859_1), 0, wire, 0, head.length());
    return new ChannelFrame.Request("r" + i, "alice@example.com", RequestStartTime.format(Instant.now()), wire);
  }

  @Test(timeout = 90_000)
  public void requestsWaitingForAStalledBackendStayWithinTheLimitAndTheRestComeOnceItMoves() throws Exception {
    proxy = new ChannelProxy();
    agent = ForwardingAgent.builder().proxyUrl(proxy.url()).backendId("backend-1")
        .target("127.0.0.1:" + backend.getLocalPort()).maxConcurrentRequests(1).maxBufferedBytes(LIMIT)
        .shutdownGracePeriod(Duration.ofMillis(200)).build();
    agent.start();
    proxy.awaitOpen(Duration.ofSeconds(10));

    Thread sender = new Thread(() -> {
      try {
        for (int i = 0; i < REQUESTS; i++) {
          proxy.send(request(i));
        }
      } catch (Exception e) {
        // the agent stopped reading and the socket's buffers are full: what this test provokes
      }
    }, "proxy-sender");
    sender.start();
    // Wait until the agent holds requests and reads no more: its holding stops growing at the limit.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long held = -1;
    while (System.nanoTime() < deadline) {
      Thread.sleep(500);
      long now = agent.heldRequests().used();
      if (now > 0 && now == held) {
        break;
      }
      held = now;
    }
    assertTrue("requests held while the backend is stalled: " + held, held > 0);
    assertTrue("most bytes held at once: " + agent.heldRequests().peak() + ", limit " + LIMIT,
        agent.heldRequests().peak() <= LIMIT);

    stalling = false;
    for (Socket s : stalled) {
      s.close();
    }
    Set<String> answered = new HashSet<>();
    while (answered.size() < REQUESTS) {
      ChannelFrame frame = proxy.pollFrame(Duration.ofSeconds(30));
      assertTrue("answers so far: " + answered.size() + " of " + REQUESTS, frame != null);
      answered.add(frame.id());
    }
    assertEquals(REQUESTS, answered.size());
    assertTrue("most bytes held at once: " + agent.heldRequests().peak(), agent.heldRequests().peak() <= LIMIT);
  }
}
