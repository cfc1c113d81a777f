package io.github.invertingproxy.agent.http;

import static org.junit.Assert.assertEquals;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hc.core5.http.config.Http1Config;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** Idle connections, against a plain server socket that sees when the agent hangs up. */
public class ConnectionPoolTest {
  private ServerSocket server;
  private ConnectionPool pool;

  @Before
  public void start() throws Exception {
    server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    pool = new ConnectionPool(Origin.parseBackend("127.0.0.1:" + server.getLocalPort()), false, Duration.ofSeconds(5),
        Http1Config.DEFAULT, null, 8);
  }

  @After
  public void stop() throws Exception {
    pool.close();
    server.close();
  }

  @Test
  public void aConnectionIdleLongerThanTheLimitIsClosed() throws Exception {
    pool.lease().release(true);
    Socket accepted = server.accept();
    CompletableFuture<Integer> peerRead = CompletableFuture.supplyAsync(() -> {
      try (InputStream in = accepted.getInputStream()) {
        return in.read();
      } catch (java.net.SocketException e) {
        return -1; // reset: the pool closes at once, without lingering
      } catch (Exception e) {
        return -2;
      }
    });
    Thread.sleep(20);

    int closed = pool.closeIdle(Duration.ofMillis(10));

    assertEquals(1, closed);
    assertEquals(0, pool.idleCount());
    assertEquals("the backend sees the end of the connection", -1, (int) peerRead.get(5, TimeUnit.SECONDS));
  }

  @Test
  public void aConnectionIdleForLessThanTheLimitIsKept() throws Exception {
    pool.lease().release(true);
    server.accept().close();

    int closed = pool.closeIdle(Duration.ofMinutes(1));

    assertEquals(0, closed);
    assertEquals(1, pool.idleCount());
  }
}
