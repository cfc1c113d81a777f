package io.github.invertingproxy.protocol;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One message of the channel extension (docs/protocol.md, "Channel extension"): a client's request
 * that the proxy sends down an agent's {@code agent/channel} WebSocket, or the agent's response to
 * it. Each frame is one binary WebSocket message:
 *
 * <pre>
 * request:  0x01, u8 id length, id, u16 user length, user (UTF-8), u8 start length, start, message
 * response: 0x02, u8 id length, id, message
 * </pre>
 *
 * where {@code id} is the exchange's request id (ASCII), {@code start} the request's start time as
 * in {@code X-Inverting-Proxy-Request-Start-Time}, and {@code message} the whole request or response
 * in HTTP/1.1 wire format, body included, to the end of the frame.
 */
public sealed interface ChannelFrame {
  /** The announcement token, and the proxy's offer on an {@code agent/pending} answer. */
  String FEATURE = AgentFeatures.CHANNEL;
  /** Where the agent opens the channel, relative to the agent-facing base URL. */
  String PATH = "agent/channel";
  /** Largest body that travels in a frame; larger or unknown-length ones take the three calls. */
  int MAX_BODY_BYTES = 64 * 1024;
  /** Largest frame either peer accepts: a body of {@link #MAX_BODY_BYTES} with a generous head. */
  int MAX_FRAME_BYTES = MAX_BODY_BYTES + 256 * 1024;

  byte REQUEST = 1;
  byte RESPONSE = 2;

  String id();

  /** The request or response in HTTP/1.1 wire format. */
  byte[] message();

  /** Proxy to agent: a client's request, complete. */
  record Request(String id, String user, String startTime, byte[] message) implements ChannelFrame {
    public Request {
      checkAscii(id, "id", 255);
      requireNonNull(user, "user");
      checkAscii(startTime, "startTime", 255);
      requireNonNull(message, "message");
      if (user.getBytes(StandardCharsets.UTF_8).length > 0xffff) {
        throw new IllegalArgumentException("user is longer than 65535 bytes");
      }
    }
  }

  /** Agent to proxy: the backend's response to request {@code id}, complete. */
  record Response(String id, byte[] message) implements ChannelFrame {
    public Response {
      checkAscii(id, "id", 255);
      requireNonNull(message, "message");
    }
  }

  /** The frame as one binary WebSocket message. */
  static ByteBuffer encode(ChannelFrame frame) {
    byte[] id = frame.id().getBytes(StandardCharsets.US_ASCII);
    if (frame instanceof Request r) {
      byte[] user = r.user().getBytes(StandardCharsets.UTF_8);
      byte[] start = r.startTime().getBytes(StandardCharsets.US_ASCII);
      ByteBuffer out = ByteBuffer.allocate(1 + 1 + id.length + 2 + user.length + 1 + start.length + r.message().length);
      out.put(REQUEST).put((byte) id.length).put(id).putShort((short) user.length).put(user)
          .put((byte) start.length).put(start).put(r.message());
      return out.flip();
    }
    Response r = (Response) frame;
    ByteBuffer out = ByteBuffer.allocate(1 + 1 + id.length + r.message().length);
    out.put(RESPONSE).put((byte) id.length).put(id).put(r.message());
    return out.flip();
  }

  /**
   * Parses one binary WebSocket message.
   *
   * @throws MalformedMessageException naming what is wrong: an unknown type, a field that runs past
   *     the end, an id or start time that is not printable ASCII, or a frame over {@link #MAX_FRAME_BYTES}
   */
  static ChannelFrame decode(ByteBuffer in) throws MalformedMessageException {
    ByteBuffer b = in.duplicate();
    if (b.remaining() > MAX_FRAME_BYTES) {
      throw new MalformedMessageException("channel frame of " + b.remaining() + " bytes is over the limit of "
          + MAX_FRAME_BYTES);
    }
    if (!b.hasRemaining()) {
      throw new MalformedMessageException("empty channel frame");
    }
    byte type = b.get();
    if (type != REQUEST && type != RESPONSE) {
      throw new MalformedMessageException("unknown channel frame type " + (type & 0xff));
    }
    String id = ascii(b, unsignedByte(b, "id length"), "id");
    if (id.isEmpty()) {
      throw new MalformedMessageException("channel frame without a request id");
    }
    if (type == RESPONSE) {
      return new Response(id, rest(b));
    }
    int userLength = b.remaining() < 2 ? -1 : b.getShort() & 0xffff;
    if (userLength < 0 || userLength > b.remaining()) {
      throw new MalformedMessageException("channel request frame ends inside its user field");
    }
    byte[] user = new byte[userLength];
    b.get(user);
    String start = ascii(b, unsignedByte(b, "start time length"), "start time");
    if (start.isEmpty()) {
      throw new MalformedMessageException("channel request frame without a start time");
    }
    return new Request(id, new String(user, StandardCharsets.UTF_8), start, rest(b));
  }

  private static int unsignedByte(ByteBuffer b, String what) throws MalformedMessageException {
    if (!b.hasRemaining()) {
      throw new MalformedMessageException("channel frame ends before its " + what);
    }
    return b.get() & 0xff;
  }

  private static String ascii(ByteBuffer b, int length, String what) throws MalformedMessageException {
    if (length > b.remaining()) {
      throw new MalformedMessageException("channel frame ends inside its " + what);
    }
    byte[] bytes = new byte[length];
    b.get(bytes);
    for (byte c : bytes) {
      if (c < 0x21 || c > 0x7e) {
        throw new MalformedMessageException("channel frame's " + what + " is not printable ASCII");
      }
    }
    return new String(bytes, StandardCharsets.US_ASCII);
  }

  private static byte[] rest(ByteBuffer b) {
    byte[] message = new byte[b.remaining()];
    b.get(message);
    return message;
  }

  private static void checkAscii(String value, String name, int max) {
    requireNonNull(value, name);
    if (value.isEmpty() || value.length() > max) {
      throw new IllegalArgumentException(name + " must be 1 to " + max + " characters, was " + value.length());
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException(name + " must be printable ASCII, has " + (int) c + " at " + i);
      }
    }
  }
}
