package io.github.invertingproxy.commandline.logging;

import static java.util.Objects.requireNonNull;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.ErrorManager;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Writes log records to a stream from a background thread, so that a request thread only queues its
 * record: no formatting, no lock on the stream and no write system call on the request's path. The
 * server's one line per exchange and the agent's one line per request both go through it.
 *
 * <p>Lines are written in the order they were queued, in batches (about every 10 ms at most),
 * flushed whenever the queue runs dry. When the queue is full the caller writes its record itself
 * (slower, and possibly ahead of queued lines, but no line is ever dropped). Records leave the queue
 * only under the stream's lock, so {@link #flush} returns once every record queued before it is
 * written. {@link #close} (also run by the logging system at JVM exit) writes whatever is still
 * queued.
 */
public final class AsyncLogHandler extends Handler {
  private static final int CAPACITY = 16_384;
  private static final int BATCH = 1024;
  /**
   * After writing a batch the writer rests this long, so that under load it wakes up at most about
   * a hundred times a second (and queuing a record seldom has to wake it), not once per line.
   */
  private static final long REST_MILLIS = 10;
  /** An idle writer looks at the queue at least this often, even if no one wakes it. */
  private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final BlockingQueue<LogRecord> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final OutputStream out;
  private final Thread writer;
  /** The writer is waiting for records, and a publisher must wake it. */
  private volatile boolean idle;
  private volatile boolean closed;

  /** Starts the writer thread (a daemon named {@code threadName}). */
  public AsyncLogHandler(OutputStream out, Formatter formatter, String threadName) {
    this.out = new BufferedOutputStream(requireNonNull(out, "out"), 64 * 1024);
    setFormatter(requireNonNull(formatter, "formatter"));
    writer = new Thread(this::drainLoop, requireNonNull(threadName, "threadName"));
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public void publish(LogRecord record) {
    if (closed || !isLoggable(record)) {
      return;
    }
    if (!queue.offer(record)) {
      synchronized (out) {
        write(List.of(record));
        flushQuietly();
      }
    } else if (idle) {
      LockSupport.unpark(writer);
    }
  }

  private void drainLoop() {
    List<LogRecord> batch = new ArrayList<>(BATCH);
    while (!closed || !queue.isEmpty()) {
      if (queue.isEmpty()) {
        idle = true;
        // Checked again after saying so: a record queued before a publisher saw idle is found here.
        if (queue.isEmpty() && !closed) {
          LockSupport.parkNanos(this, IDLE_NANOS);
        }
        idle = false;
        continue;
      }
      synchronized (out) {
        queue.drainTo(batch, BATCH);
        write(batch);
        if (queue.isEmpty()) {
          flushQuietly();
        }
      }
      batch.clear();
      if (!closed) {
        try {
          Thread.sleep(REST_MILLIS);
        } catch (InterruptedException e) {
          // close() interrupts a resting writer: go on draining.
        }
      }
    }
  }

  private void write(List<LogRecord> records) {
    for (LogRecord r : records) {
      try {
        out.write(getFormatter().format(r).getBytes(StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        reportError(null, e, ErrorManager.WRITE_FAILURE);
      }
    }
  }

  private void flushQuietly() {
    try {
      out.flush();
    } catch (IOException e) {
      reportError(null, e, ErrorManager.FLUSH_FAILURE);
    }
  }

  /** Writes every record queued so far, then flushes the stream. */
  @Override
  public void flush() {
    List<LogRecord> rest = new ArrayList<>();
    synchronized (out) {
      queue.drainTo(rest);
      write(rest);
      flushQuietly();
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(writer);
    writer.interrupt();
    try {
      writer.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush();
  }
}
