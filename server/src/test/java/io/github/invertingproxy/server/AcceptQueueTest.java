package io.github.invertingproxy.server;

import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** Bursts of new connections against a real server whose acceptor is held. */
public class AcceptQueueTest {
  /** More than the JDK's default queue of 50, within what the kernel allows (net.core.somaxconn). */
  private static final int BURST = Math.min(300, kernelQueueCap());

  private StandaloneServer server;
  private final List<SocketChannel> clients = new ArrayList<>();

  private static int kernelQueueCap() {
    try {
      return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/core/somaxconn")).trim());
    } catch (IOException | NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  @Before
  public void start() throws Exception {
    server = StandaloneServer.builder().bind("127.0.0.1").port(0).build().start();
  }

  @After
  public void stop() throws Exception {
    for (SocketChannel c : clients) {
      c.close();
    }
    server.close();
  }

  @Test(timeout = 30_000)
  public void aBurstOfConnectionsWaitsForTheAcceptorInsteadOfBeingDropped() throws Exception {
    server.accepting(false); // every connect of the burst now has to wait in the kernel's queue
    int connected = 0;
    try (Selector selector = Selector.open()) {
      for (int i = 0; i < BURST; i++) {
        SocketChannel c = SocketChannel.open();
        clients.add(c);
        c.configureBlocking(false);
        if (c.connect(new InetSocketAddress("127.0.0.1", server.port()))) {
          connected++;
        } else {
          c.register(selector, SelectionKey.OP_CONNECT);
        }
      }
      // A dropped connect is retried by the kernel after 1 s, 3 s, ...: 2.5 s tells the two apart.
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
      long left;
      while (connected < BURST && (left = deadline - System.nanoTime()) > 0) {
        selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        for (SelectionKey key : selector.selectedKeys()) {
          if (((SocketChannel) key.channel()).finishConnect()) {
            connected++;
            key.cancel();
          }
        }
        selector.selectedKeys().clear();
      }
    }
    assertEquals("connections completed while the acceptor was held", BURST, connected);
  }
}
