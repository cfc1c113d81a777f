package io.github.invertingproxy.websocket;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.MessageTooLargeException;
import org.junit.Test;

public class MessageAssemblerTest {
  private static Frame frame(byte opcode, boolean fin, int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return new Frame(opcode, fin, ByteBuffer.wrap(b));
  }

  @Test
  public void aMessageOfOneFrameIsThatFramesPayload() {
    Frame only = frame(OpCode.BINARY, true, 1, 2, 3);
    ByteBuffer whole = new MessageAssembler(10).add(only);
    assertTrue(whole == only.getPayload());
  }

  @Test
  public void fragmentsAreJoinedWhenTheLastOneComes() {
    MessageAssembler assembler = new MessageAssembler(10);
    assertNull(assembler.add(frame(OpCode.BINARY, false, 1, 2)));
    assertNull(assembler.add(frame(OpCode.CONTINUATION, false, 3)));
    assertArrayEquals(new byte[] {1, 2, 3, 4}, BufferUtil.toArray(assembler.add(frame(OpCode.CONTINUATION, true, 4))));
    // The next message starts afresh.
    assertArrayEquals(new byte[] {5}, BufferUtil.toArray(assembler.add(frame(OpCode.BINARY, true, 5))));
  }

  @Test
  public void aMessageExactlyAtTheLimitIsWhole() {
    MessageAssembler assembler = new MessageAssembler(3);
    assertNull(assembler.add(frame(OpCode.BINARY, false, 1, 2)));
    assertArrayEquals(new byte[] {1, 2, 3}, BufferUtil.toArray(assembler.add(frame(OpCode.CONTINUATION, true, 3))));
  }

  @Test
  public void fragmentsThatGrowPastTheLimitAreRefused() {
    MessageAssembler assembler = new MessageAssembler(3);
    assertNull(assembler.add(frame(OpCode.BINARY, false, 1, 2)));
    assertThrows(MessageTooLargeException.class, () -> assembler.add(frame(OpCode.CONTINUATION, false, 3, 4)));
    // What was held is dropped: a later continuation has no start to join.
    assertNull(assembler.add(frame(OpCode.CONTINUATION, true, 5)));
  }

  @Test
  public void aSingleFrameOverTheLimitIsRefused() {
    assertThrows(MessageTooLargeException.class, () -> new MessageAssembler(2).add(frame(OpCode.BINARY, true, 1, 2, 3)));
  }

  @Test
  public void aContinuationWithoutAStartGivesNothing() {
    assertNull(new MessageAssembler(10).add(frame(OpCode.CONTINUATION, true, 1)));
  }
}
