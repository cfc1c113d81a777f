package io.github.invertingproxy.agent.html;

import java.io.IOException;
import java.io.InputStream;

/** The first bytes with the snippets in place, then the rest of the (decoded) page. */
final class InjectedBody extends InputStream {
  private static final int MAX_DRAIN = 64 * 1024;

  private final byte[] first;
  private final InputStream content;
  private final InputStream raw;
  private int position;
  private boolean contentEnded;
  private boolean done;

  /** @param ended true when {@code content} already reached its end while {@code first} was read */
  InjectedBody(byte[] first, InputStream content, InputStream raw, boolean ended) {
    this.first = first;
    this.content = content;
    this.raw = raw;
    this.contentEnded = ended;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (position < first.length) {
      int n = Math.min(len, first.length - position);
      System.arraycopy(first, position, b, off, n);
      position += n;
      return n;
    }
    if (done) {
      return -1;
    }
    int n = contentEnded ? -1 : content.read(b, off, len);
    if (n < 0) {
      finish();
      return -1;
    }
    return n;
  }

  /**
   * At the end of the page: frees the decoder and reads what is left of the backend's body (a gzip
   * member's trailer), so that the backend connection is seen to be at a message boundary.
   */
  private void finish() throws IOException {
    done = true;
    if (content != raw) {
      content.close(); // the decoder only: it does not close the backend's stream
      byte[] skip = new byte[HtmlInjection.READ_SIZE];
      int drained = 0;
      int n;
      while (drained < MAX_DRAIN && (n = raw.read(skip)) >= 0) {
        drained += n;
      }
    }
  }

  @Override
  public void close() throws IOException {
    if (!done && content != raw) {
      done = true;
      content.close();
    }
  }
}
