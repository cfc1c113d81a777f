package io.github.invertingproxy.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import org.junit.Test;

public class ChannelFrameTest {
  private static final String ID = "0123456789abcdef";
  private static final String START = "2026-11-27T17:00:00.123456789Z";

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static ByteBuffer of(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return ByteBuffer.wrap(b);
  }

  @Test
  public void aRequestFrameIsLaidOutAsTheProtocolSays() {
    byte[] wire = "GET / HTTP/1.1\r\n\r\n".getBytes(ISO_8859_1);
    byte[] frame = bytes(ChannelFrame.encode(new ChannelFrame.Request(ID, "é@x", START, wire)));
    ByteBuffer b = ByteBuffer.wrap(frame);
    assertEquals(ChannelFrame.REQUEST, b.get());
    assertEquals(ID.length(), b.get());
    b.position(b.position() + ID.length());
    assertEquals("é@x".getBytes(UTF_8).length, b.getShort());
    b.position(b.position() + 4);
    assertEquals(START.length(), b.get());
    b.position(b.position() + START.length());
    byte[] rest = new byte[b.remaining()];
    b.get(rest);
    assertArrayEquals(wire, rest);
  }

  @Test
  public void aRequestSurvivesTheRoundTrip() throws Exception {
    byte[] wire = "POST /x HTTP/1.1\r\nContent-Length: 1\r\n\r\n\0".getBytes(ISO_8859_1);
    ChannelFrame decoded = ChannelFrame.decode(ChannelFrame.encode(new ChannelFrame.Request(ID, "alice@example.com", START, wire)));
    ChannelFrame.Request r = (ChannelFrame.Request) decoded;
    assertEquals(ID, r.id());
    assertEquals("alice@example.com", r.user());
    assertEquals(START, r.startTime());
    assertArrayEquals(wire, r.message());
  }

  @Test
  public void aResponseSurvivesTheRoundTripWithAnEmptyUserlessLayout() throws Exception {
    byte[] wire = "HTTP/1.1 204 No Content\r\n\r\n".getBytes(ISO_8859_1);
    byte[] frame = bytes(ChannelFrame.encode(new ChannelFrame.Response(ID, wire)));
    assertEquals(1 + 1 + ID.length() + wire.length, frame.length);
    ChannelFrame.Response r = (ChannelFrame.Response) ChannelFrame.decode(ByteBuffer.wrap(frame));
    assertEquals(ID, r.id());
    assertArrayEquals(wire, r.message());
  }

  @Test
  public void anEmptyUserIsAllowed() throws Exception {
    ChannelFrame.Request r = (ChannelFrame.Request) ChannelFrame.decode(
        ChannelFrame.encode(new ChannelFrame.Request(ID, "", START, new byte[0])));
    assertEquals("", r.user());
    assertEquals(0, r.message().length);
  }

  @Test
  public void anUnknownTypeIsRefused() {
    MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(of(3, 1, 'a')));
    assertTrue(e.getMessage(), e.getMessage().contains("unknown channel frame type 3"));
  }

  @Test
  public void anEmptyFrameIsRefused() {
    assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(ByteBuffer.allocate(0)));
  }

  @Test
  public void anIdThatRunsPastTheEndIsRefused() {
    MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(of(2, 5, 'a', 'b')));
    assertTrue(e.getMessage(), e.getMessage().contains("ends inside its id"));
  }

  @Test
  public void anEmptyIdIsRefused() {
    assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(of(2, 0)));
  }

  @Test
  public void anIdWithControlCharactersIsRefused() {
    MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(of(2, 2, 'a', '\n')));
    assertTrue(e.getMessage(), e.getMessage().contains("not printable ASCII"));
  }

  @Test
  public void aRequestThatEndsInsideItsUserIsRefused() {
    MalformedMessageException e = assertThrows(MalformedMessageException.class,
        () -> ChannelFrame.decode(of(1, 1, 'a', 0, 9, 'b')));
    assertTrue(e.getMessage(), e.getMessage().contains("user"));
  }

  @Test
  public void aRequestWithoutAStartTimeIsRefused() {
    assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(of(1, 1, 'a', 0, 0)));
    assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(of(1, 1, 'a', 0, 0, 0)));
  }

  @Test
  public void aFrameOverTheLimitIsRefused() {
    ByteBuffer big = ByteBuffer.allocate(ChannelFrame.MAX_FRAME_BYTES + 1);
    big.put(0, ChannelFrame.RESPONSE).put(1, (byte) 1).put(2, (byte) 'a');
    assertThrows(MalformedMessageException.class, () -> ChannelFrame.decode(big));
  }

  @Test
  public void decodingLeavesTheBufferAsItWas() throws Exception {
    ByteBuffer frame = ChannelFrame.encode(new ChannelFrame.Response(ID, new byte[] {1, 2}));
    int position = frame.position();
    ChannelFrame.decode(frame);
    assertEquals(position, frame.position());
  }

  @Test
  public void framesRefuseIdsThatCannotBeEncoded() {
    assertThrows(IllegalArgumentException.class, () -> new ChannelFrame.Response("", new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> new ChannelFrame.Response("a b", new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> new ChannelFrame.Response("x".repeat(256), new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> new ChannelFrame.Request(ID, "u", "", new byte[0]));
  }
}
