package io.github.invertingproxy.server.tls;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Watches the certificate and key files and hands a renewed pair to the listeners without a restart:
 * connections already open keep the certificate they were made with, new ones get the new one.
 * Renewal tools replace the two files one after the other (or swap a symbolic link), so a check that
 * finds them changed but not yet matching waits for the next change rather than giving up.
 */
public final class CertificateReloader extends AbstractLifeCycle {
  private static final Logger LOG = Logger.getLogger(CertificateReloader.class.getName());

  private final CertificateFiles files;
  private final SslContextFactory.Server tls;
  private final Duration interval;
  private ScheduledExecutorService timer;
  private List<Object> lastSeen;
  private volatile BigInteger serial;

  /** Starts with the pair already loaded into {@code tls}, as read when the server was built. */
  public CertificateReloader(CertificateFiles files, SslContextFactory.Server tls, KeyStore loaded, Duration interval) {
    this.files = requireNonNull(files, "files");
    this.tls = requireNonNull(tls, "tls");
    this.interval = requireNonNull(interval, "interval");
    if (interval.isZero() || interval.isNegative()) {
      throw new IllegalArgumentException("certificate check interval must be positive, was " + interval);
    }
    this.lastSeen = stamp();
    this.serial = serialOf(loaded);
  }

  /** The serial number of the certificate that new connections get. */
  public BigInteger serial() {
    return serial;
  }

  @Override
  protected void doStart() {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tls-certificate-reloader");
      t.setDaemon(true);
      return t;
    });
    long millis = interval.toMillis();
    timer.scheduleWithFixedDelay(this::checkNow, millis, millis, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void doStop() {
    timer.shutdownNow();
  }

  /** Loads the files again if they changed since last seen; a pair that does not serve is logged and skipped. */
  synchronized void checkNow() {
    List<Object> now = stamp();
    if (now.equals(lastSeen)) {
      return;
    }
    lastSeen = now;
    KeyStore renewed;
    try {
      renewed = files.toKeyStore();
    } catch (CertificateFiles.Unusable e) {
      LOG.warning("TLS certificate not reloaded, the listeners keep the previous one: " + e.getMessage());
      return;
    }
    try {
      tls.reload(factory -> factory.setKeyStore(renewed));
      serial = serialOf(renewed);
      LOG.info("TLS certificate reloaded from " + files.certificate() + " (serial " + serial.toString(16) + ")");
    } catch (Exception e) {
      LOG.log(Level.WARNING, "TLS certificate not reloaded, the listeners keep the previous one: " + e.getMessage(), e);
    }
  }

  /** What changes when a file is replaced: where a link points, the modification time and the size. */
  private List<Object> stamp() {
    return List.of(stamp(files.certificate()), stamp(files.key()));
  }

  private static List<Object> stamp(Path file) {
    try {
      return List.of(file.toRealPath().toString(), Files.getLastModifiedTime(file).toMillis(), Files.size(file));
    } catch (IOException e) {
      return List.of("missing"); // in the middle of a replacement; the next check looks again
    }
  }

  private static BigInteger serialOf(KeyStore store) {
    try {
      return ((X509Certificate) store.getCertificate(CertificateFiles.ALIAS)).getSerialNumber();
    } catch (KeyStoreException e) {
      throw new IllegalStateException("key store not loaded", e);
    }
  }
}
