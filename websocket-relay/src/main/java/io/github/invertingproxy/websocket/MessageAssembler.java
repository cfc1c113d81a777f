package io.github.invertingproxy.websocket;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.MessageTooLargeException;

/**
 * Joins the frames of a binary message (its first frame and its continuations) into the whole
 * message, never holding more than a limit. One per socket, fed from {@code onFrame}, which Jetty
 * never calls concurrently for one session.
 */
public final class MessageAssembler {
  private final int maxBytes;
  private ByteArrayOutputStream fragments;

  public MessageAssembler(int maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /**
   * Adds a {@code BINARY} or {@code CONTINUATION} frame.
   *
   * @return the whole message once the frame that ends it has come, else null. A message of one frame
   *     is that frame's own payload, valid only until the frame's callback completes.
   * @throws MessageTooLargeException when the message would grow past the limit (its frames so far
   *     are dropped)
   */
  public ByteBuffer add(Frame frame) {
    ByteBuffer payload = frame.hasPayload() ? frame.getPayload() : BufferUtil.EMPTY_BUFFER;
    boolean first = frame.getOpCode() == OpCode.BINARY;
    long size = (first || fragments == null ? 0 : fragments.size()) + (long) payload.remaining();
    if (size > maxBytes) {
      fragments = null;
      throw new MessageTooLargeException("a message larger than " + maxBytes + " bytes");
    }
    if (first && frame.isFin()) {
      // The usual case, one frame: no copy here.
      fragments = null;
      return payload;
    }
    if (first) {
      fragments = new ByteArrayOutputStream();
    } else if (fragments == null) {
      // A continuation without a start; Jetty refuses those itself, so this is only a guard.
      return null;
    }
    fragments.writeBytes(BufferUtil.toArray(payload));
    if (!frame.isFin()) {
      return null;
    }
    ByteBuffer whole = ByteBuffer.wrap(fragments.toByteArray());
    fragments = null;
    return whole;
  }
}
