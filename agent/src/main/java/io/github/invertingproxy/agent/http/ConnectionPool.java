package io.github.invertingproxy.agent.http;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.hc.core5.http.ContentLengthStrategy;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.io.DefaultBHttpClientConnection;
import org.apache.hc.core5.http.impl.io.SocketHolder;
import org.apache.hc.core5.http.io.SessionInputBuffer;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * Keep-alive HTTP/1.1 connections to one origin. A connection that sat idle for a while is checked
 * before reuse, because the peer may have closed it in the meantime, and one idle for too long is
 * dropped: servers close idle connections, and writing a request into one that is closing loses it.
 */
public final class ConnectionPool implements Closeable {
  /** Reuse without a check when idle for less than this, as HttpClient's validate-after-inactivity. */
  private static final long CHECK_AFTER_IDLE_NANOS = Duration.ofSeconds(1).toNanos();
  /** Shorter than the idle timeouts of common servers (Jetty 30 s, Go 90 s when set, nginx 75 s). */
  public static final Duration MAX_IDLE = Duration.ofSeconds(25);
  private static final long MAX_IDLE_NANOS = MAX_IDLE.toNanos();

  private final Origin origin;
  private final SSLSocketFactory tls;
  private final boolean verifyHostname;
  private final Duration connectTimeout;
  private final Http1Config http1Config;
  private final ContentLengthStrategy outgoingLength;
  private final int maxIdle;
  private final Deque<Idle> idle = new ArrayDeque<>();
  private final Set<DefaultBHttpClientConnection> leased = ConcurrentHashMap.newKeySet();
  private boolean closed;

  /**
   * @param trustAnyCertificate for {@code --disable-ssl-for-test}: accept any certificate and host name
   * @param outgoingLength how request bodies are framed, or null for httpcore5's default (from headers)
   */
  public ConnectionPool(Origin origin, boolean trustAnyCertificate, Duration connectTimeout, Http1Config http1Config,
      ContentLengthStrategy outgoingLength, int maxIdle) {
    this(origin, trustAnyCertificate, null, connectTimeout, http1Config, outgoingLength, maxIdle);
  }

  /** @param trusted the authorities to accept certificates from; null for the JVM's default */
  public ConnectionPool(Origin origin, boolean trustAnyCertificate, SSLContext trusted, Duration connectTimeout,
      Http1Config http1Config, ContentLengthStrategy outgoingLength, int maxIdle) {
    this.origin = requireNonNull(origin, "origin");
    this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
    this.http1Config = requireNonNull(http1Config, "http1Config");
    this.outgoingLength = outgoingLength;
    this.maxIdle = maxIdle;
    this.verifyHostname = !trustAnyCertificate;
    this.tls = origin.tls() ? socketFactory(trustAnyCertificate, trusted) : null;
  }

  public Origin origin() {
    return origin;
  }

  /** A connection for one exchange: an idle one that is still good, or a new one. */
  public Lease lease() throws IOException {
    while (true) {
      Idle candidate;
      synchronized (this) {
        if (closed) {
          throw new IOException("connection pool for " + origin + " is closed");
        }
        candidate = idle.pollFirst();
      }
      if (candidate == null) {
        break;
      }
      long idleNanos = System.nanoTime() - candidate.since;
      if (idleNanos > MAX_IDLE_NANOS || (idleNanos > CHECK_AFTER_IDLE_NANOS && isStale(candidate.connection))) {
        candidate.connection.close(CloseMode.IMMEDIATE);
        continue;
      }
      leased.add(candidate.connection);
      return new Lease(candidate.connection, true);
    }
    return lendNew(connect());
  }

  /**
   * Takes over a connection that the backend selector (package backend) opened and sent a request on: blocking again, with
   * the bytes already read of the response put back in front, so that it is read from its first byte.
   *
   * @param readSoFar those bytes, in a buffer backed by an array (which is read, not copied)
   * @param giveBack takes the connection when it is released for reuse with nothing left unread, in
   *     place of this pool
   */
  public Lease adopt(SocketChannel channel, ByteBuffer readSoFar, Consumer<SocketChannel> giveBack) throws IOException {
    if (tls != null) {
      throw new IllegalStateException("a TLS pool cannot adopt a plain connection");
    }
    Adopted connection = new Adopted(http1Config, outgoingLength, channel, giveBack);
    connection.bind(readSoFar);
    return lendNew(connection);
  }

  /** Lends a connection that served no exchange here yet; closes it when the pool is closed. */
  private Lease lendNew(DefaultBHttpClientConnection connection) throws IOException {
    leased.add(connection);
    synchronized (this) {
      if (closed) {
        leased.remove(connection);
        connection.close(CloseMode.IMMEDIATE);
        throw new IOException("connection pool for " + origin + " is closed");
      }
    }
    return new Lease(connection, false);
  }

  /** True when the peer closed the connection (or sent something unasked) while it was idle. */
  private static boolean isStale(DefaultBHttpClientConnection connection) {
    try {
      return connection.isStale();
    } catch (IOException e) {
      return true;
    }
  }

  private DefaultBHttpClientConnection connect() throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.setKeepAlive(true);
      socket.connect(new InetSocketAddress(origin.host(), origin.port()), (int) connectTimeout.toMillis());
      DefaultBHttpClientConnection connection =
          new DefaultBHttpClientConnection(http1Config, null, null, null, outgoingLength, null, null);
      if (tls == null) {
        connection.bind(socket);
        return connection;
      }
      SSLSocket sslSocket = (SSLSocket) tls.createSocket(socket, origin.host(), origin.port(), true);
      if (verifyHostname) {
        SSLParameters parameters = sslSocket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        sslSocket.setSSLParameters(parameters);
      }
      sslSocket.setSoTimeout((int) connectTimeout.toMillis());
      sslSocket.startHandshake();
      connection.bind(sslSocket, socket);
      return connection;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private void release(DefaultBHttpClientConnection connection, boolean reusable) {
    leased.remove(connection);
    if (connection instanceof Adopted adopted && reusable && connection.isOpen() && adopted.allRead()) {
      adopted.giveBack.accept(adopted.channel);
      return;
    }
    if (reusable && connection.isOpen()) {
      synchronized (this) {
        if (!closed && idle.size() < maxIdle) {
          idle.addFirst(new Idle(connection, System.nanoTime()));
          return;
        }
      }
    }
    connection.close(CloseMode.IMMEDIATE);
  }

  /** Closes every connection, idle or in use; exchanges still running fail with an IOException. */
  @Override
  public void close() {
    List<DefaultBHttpClientConnection> all = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Idle i : idle) {
        all.add(i.connection);
      }
      idle.clear();
    }
    all.addAll(leased);
    for (DefaultBHttpClientConnection c : all) {
      c.close(CloseMode.IMMEDIATE);
    }
  }

  public synchronized int idleCount() {
    return idle.size();
  }

  /**
   * Closes the connections that have been idle for longer than {@code maxIdle}, so that an agent with
   * little traffic holds no sockets (nor the peer's resources) for long.
   *
   * @return how many were closed
   */
  public int closeIdle(Duration maxIdle) {
    long cutoff = System.nanoTime() - maxIdle.toNanos();
    List<DefaultBHttpClientConnection> old = new ArrayList<>();
    synchronized (this) {
      // Newest first: the old ones are at the tail.
      while (!idle.isEmpty() && idle.peekLast().since - cutoff <= 0) {
        old.add(idle.pollLast().connection);
      }
    }
    for (DefaultBHttpClientConnection c : old) {
      c.close(CloseMode.IMMEDIATE);
    }
    return old.size();
  }

  private static SSLSocketFactory socketFactory(boolean trustAnyCertificate, SSLContext trusted) {
    try {
      if (!trustAnyCertificate) {
        return (trusted != null ? trusted : SSLContext.getDefault()).getSocketFactory();
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new TrustAnyCertificate()}, null);
      return context.getSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is not available in this JVM: " + e.getMessage(), e);
    }
  }

  /** One connection on loan; give it back with {@link #release} or {@link #discard}, once. */
  public final class Lease {
    private final DefaultBHttpClientConnection connection;
    private final boolean reused;
    private boolean done;

    private Lease(DefaultBHttpClientConnection connection, boolean reused) {
      this.connection = connection;
      this.reused = reused;
    }

    public DefaultBHttpClientConnection connection() {
      return connection;
    }

    /** True when the connection served an earlier exchange, so a failure may only mean it went stale. */
    public boolean reused() {
      return reused;
    }

    public void setSocketTimeout(Duration timeout) {
      connection.setSocketTimeout(timeout.isZero() ? Timeout.INFINITE : Timeout.of(timeout));
    }

    /** Gives the connection back; it is kept for reuse only when {@code reusable}. */
    public synchronized void release(boolean reusable) {
      if (!done) {
        done = true;
        ConnectionPool.this.release(connection, reusable);
      }
    }

    /**
     * Closes the connection at once, unblocking any thread reading from it. Safe from any thread; does
     * nothing once the connection was given back.
     */
    public void discard() {
      synchronized (this) {
        if (done) {
          return;
        }
        done = true;
      }
      connection.close(CloseMode.IMMEDIATE);
      ConnectionPool.this.release(connection, false);
    }
  }

  /** A connection whose first bytes were read before it came here; it goes back where it came from. */
  private static final class Adopted extends DefaultBHttpClientConnection {
    final SocketChannel channel;
    final Consumer<SocketChannel> giveBack;
    private ByteArrayInputStream prefix;
    private volatile SessionInputBuffer buffer;

    Adopted(Http1Config config, ContentLengthStrategy outgoingLength, SocketChannel channel,
        Consumer<SocketChannel> giveBack) {
      super(config, null, null, null, outgoingLength, null, null);
      this.channel = channel;
      this.giveBack = giveBack;
    }

    void bind(ByteBuffer readSoFar) throws IOException {
      prefix = new ByteArrayInputStream(readSoFar.array(), readSoFar.arrayOffset() + readSoFar.position(),
          readSoFar.remaining());
      bind(new SocketHolder(channel.socket()) {
        @Override
        protected InputStream getInputStream(Socket s) throws IOException {
          return new SequenceInputStream(prefix, super.getInputStream(s));
        }
      });
    }

    @Override
    protected InputStream createContentInputStream(long length, SessionInputBuffer buffer, InputStream in) {
      this.buffer = buffer;
      return super.createContentInputStream(length, buffer, in);
    }

    /** True when no byte was read ahead of the response: none left of the prefix, none buffered. */
    boolean allRead() {
      SessionInputBuffer b = buffer;
      return b != null && b.length() == 0 && prefix.available() == 0;
    }
  }

  private record Idle(DefaultBHttpClientConnection connection, long since) {}

  /** For {@code --disable-ssl-for-test} only: a proxy with a self-signed certificate on a test machine. */
  private static final class TrustAnyCertificate implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
