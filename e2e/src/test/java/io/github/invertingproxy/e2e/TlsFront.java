package io.github.invertingproxy.e2e;

import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * A TLS terminator in front of a plain server, as a load balancer would be: it accepts TLS on its own
 * port with a self-signed certificate for 127.0.0.1 (made with the JDK's keytool) and pipes the
 * decrypted bytes to the server and back, one plain connection per TLS connection.
 */
final class TlsFront implements Closeable {
  private final SSLServerSocket listener;
  private final int target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();

  private TlsFront(SSLServerSocket listener, int target) {
    this.listener = listener;
    this.target = target;
    Thread acceptor = new Thread(this::accept, "tls-front-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a front for the server on {@code targetPort}; {@code folder} takes the keystore. */
  static TlsFront start(int targetPort, Path folder) throws Exception {
    SSLServerSocket listener = (SSLServerSocket) selfSigned(folder).getServerSocketFactory()
        .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    return new TlsFront(listener, targetPort);
  }

  /** {@code https://127.0.0.1:PORT/}. */
  String url() {
    return "https://127.0.0.1:" + listener.getLocalPort() + "/";
  }

  /** How many TLS connections it has accepted. */
  int accepted() {
    return accepted.get();
  }

  private static SSLContext selfSigned(Path folder) throws Exception {
    Path keystore = Files.createTempFile(folder, "front", ".p12");
    Files.delete(keystore);
    String keytool = System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool";
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-keystore", keystore.toString(), "-storetype", "PKCS12",
        "-storepass", "changeit", "-keypass", "changeit", "-alias", "front", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2")
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool failed: " + output);
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }

  private void accept() {
    while (!listener.isClosed()) {
      Socket tls;
      try {
        tls = listener.accept();
      } catch (IOException e) {
        continue; // closed, which ends the loop, or one failed handshake
      }
      accepted.incrementAndGet();
      sockets.add(tls);
      Socket plain = new Socket();
      try {
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 5_000);
      } catch (IOException e) {
        closeQuietly(tls);
        continue;
      }
      sockets.add(plain);
      pipe(tls, plain, "tls-front-in");
      pipe(plain, tls, "tls-front-out");
    }
  }

  /** Copies {@code from} to {@code to} until {@code from} ends, then closes both. */
  private static void pipe(Socket from, Socket to, String name) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // One side went away; closing both ends the other pipe too.
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Already gone.
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
