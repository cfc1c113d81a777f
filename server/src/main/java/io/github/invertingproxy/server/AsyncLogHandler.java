package io.github.invertingproxy.server;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.ErrorManager;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Writes log records to a stream from a background thread, so that a request thread only queues its
 * record: no formatting, no lock on the stream and no write system call on the request's path. Lines
 * are written in the order they were queued, in batches (about every 10 ms at most), flushed whenever
 * the queue runs dry. When the queue is full the caller writes its record itself (slower, and
 * possibly ahead of queued lines, but no line is ever dropped). {@link #close} (also run by the
 * logging system at JVM exit) writes whatever is still queued.
 */
final class AsyncLogHandler extends Handler {
  private static final int CAPACITY = 16_384;
  private static final int BATCH = 1024;
  /**
   * After writing a batch the writer rests this long, so that under load it wakes up at most about
   * a hundred times a second (and queuing a record seldom has to wake it), not once per line.
   */
  private static final long REST_MILLIS = 10;

  private final BlockingQueue<LogRecord> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final OutputStream out;
  private final Thread writer;
  private volatile boolean closed;

  AsyncLogHandler(OutputStream out, Formatter formatter) {
    this.out = new BufferedOutputStream(out, 64 * 1024);
    setFormatter(formatter);
    writer = new Thread(this::drainLoop, "log-writer");
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
    }
  }

  private void drainLoop() {
    List<LogRecord> batch = new ArrayList<>(BATCH);
    while (!closed || !queue.isEmpty()) {
      try {
        LogRecord first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, BATCH - 1);
        synchronized (out) {
          write(batch);
          if (queue.isEmpty()) {
            flushQuietly();
          }
        }
        batch.clear();
        if (!closed) {
          Thread.sleep(REST_MILLIS);
        }
      } catch (InterruptedException e) {
        return;
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

  @Override
  public void flush() {
    List<LogRecord> rest = new ArrayList<>();
    queue.drainTo(rest);
    synchronized (out) {
      write(rest);
      flushQuietly();
    }
  }

  @Override
  public void close() {
    closed = true;
    writer.interrupt();
    try {
      writer.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush();
  }
}
