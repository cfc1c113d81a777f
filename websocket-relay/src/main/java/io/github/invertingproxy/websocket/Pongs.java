package io.github.invertingproxy.websocket;

import java.nio.ByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;

/** Answers pings, which Jetty's frame-level sessions leave to their handlers. */
public final class Pongs {
  private Pongs() {}

  /**
   * Sends the pong for {@code ping}; once it is written, completes {@code callback} and asks for the
   * next frame (nothing when the session has closed meanwhile).
   */
  public static void answer(CoreSession session, Frame ping, Callback callback) {
    session.sendFrame(new Frame(OpCode.PONG, copyPayload(ping)), Callback.from(() -> {
      callback.succeeded();
      try {
        session.demand();
      } catch (RuntimeException e) {
        // Closed meanwhile: no more frames to ask for.
      }
    }, callback::failed), false);
  }

  /** A frame's payload, copied: Jetty reuses the buffer once the frame's callback completes. */
  public static ByteBuffer copyPayload(Frame frame) {
    ByteBuffer payload = frame.getPayload();
    return payload == null ? BufferUtil.EMPTY_BUFFER : BufferUtil.copy(payload);
  }
}
