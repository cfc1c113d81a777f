package io.github.invertingproxy.core.proxy;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InterruptedIOException;
import javax.servlet.AsyncContext;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpServletResponseWrapper;

/**
 * A client's response in the servlet API's non-blocking mode, for code written against blocking
 * writes ({@link ResponseRelay}, {@link io.github.invertingproxy.core.PlainText}).
 *
 * <p>Each write first waits until the container can take it, which only a thread that may wait does
 * ({@link #mayWait}): a thread that must not (a channel's reader) writes once, into an idle output,
 * and is refused rather than stalled when it tries more. {@link #complete()} ends the exchange as soon
 * as the last write has gone out, without waiting for it. A write that stalls is ended by the
 * container's idle timeout, which fails it through {@link #onError}.
 */
final class NonBlockingResponse extends HttpServletResponseWrapper implements WriteListener {
  private final AsyncContext async;
  private final ServletOutputStream out;
  private final Output output = new Output();
  private volatile boolean mayWait = true;
  // Guarded by this.
  private boolean writePossible;
  private boolean completeWhenWritten;
  private boolean completed;
  private Throwable failure;

  /**
   * Puts {@code async}'s response into non-blocking mode. Call on the thread that started
   * {@code async}, before its servlet call returns: the container then confirms the output is ready
   * on that same thread instead of handing it to another.
   */
  NonBlockingResponse(AsyncContext async) throws IOException {
    super((HttpServletResponse) requireNonNull(async, "async").getResponse());
    this.async = async;
    this.out = async.getResponse().getOutputStream();
    out.setWriteListener(this);
  }

  /** Whether the calling thread may wait for the client; false makes a write that would wait fail instead. */
  void mayWait(boolean mayWait) {
    this.mayWait = mayWait;
  }

  @Override
  public ServletOutputStream getOutputStream() {
    return output;
  }

  /** Ends the exchange once everything written has gone out (at once when it has). */
  void complete() {
    synchronized (this) {
      if (completed) {
        return;
      }
      if (failure == null && !out.isReady()) {
        completeWhenWritten = true; // onWritePossible or onError completes
        return;
      }
      completed = true;
    }
    async.complete();
  }

  @Override
  public void onWritePossible() {
    wake(null);
  }

  @Override
  public void onError(Throwable t) {
    wake(requireNonNull(t, "t"));
  }

  /** Wakes the writer waiting for the output, and ends the exchange if it was left to this. */
  private void wake(Throwable writeFailure) {
    boolean complete;
    synchronized (this) {
      if (writeFailure == null) {
        writePossible = true;
      } else {
        failure = writeFailure;
      }
      notifyAll();
      complete = completeWhenWritten && !completed;
      completed |= complete;
    }
    if (complete) {
      async.complete();
    }
  }

  /** Returns once the output takes a write, waiting if this thread may. */
  private synchronized void awaitWritable() throws IOException {
    while (true) {
      if (failure != null) {
        throw failure instanceof IOException e ? e : new IOException("writing to the client failed", failure);
      }
      if (out.isReady()) {
        return;
      }
      // isReady() was false: the container calls onWritePossible (or onError) once the write in
      // flight is done; it cannot before this thread lets go of the lock in wait().
      if (!mayWait) {
        throw new IOException("the client's output is busy and this thread must not wait for it");
      }
      writePossible = false;
      try {
        while (!writePossible && failure == null) {
          wait();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting to write to the client");
      }
    }
  }

  private final class Output extends ServletOutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    /**
     * The container may send straight from {@code b} after this returns; so a thread that may wait
     * returns only once it has, since its caller reuses {@code b}. A thread that must not wait writes
     * once, from an array that is not reused.
     */
    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      awaitWritable();
      out.write(b, off, len);
      if (mayWait) {
        awaitWritable();
      }
    }

    /** Never waits: when a write is in flight, it carries everything written so far. */
    @Override
    public void flush() throws IOException {
      synchronized (NonBlockingResponse.this) {
        if (failure == null && out.isReady()) {
          out.flush();
        }
      }
    }

    @Override
    public boolean isReady() {
      return out.isReady();
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      throw new IllegalStateException("the output is already non-blocking");
    }
  }
}
