package io.github.invertingproxy.e2e;

import io.github.invertingproxy.protocol.IncomingMessage;
import io.github.invertingproxy.protocol.MessageLimits;
import io.github.invertingproxy.protocol.MessageReader;
import io.github.invertingproxy.protocol.ResponseHead;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A client that sends exactly the bytes given and parses the answer with the project's codec. */
final class RawClient implements AutoCloseable {
  private final Socket socket;
  private final OutputStream out;
  private final BufferedInputStream in;

  RawClient(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(60_000);
    out = socket.getOutputStream();
    in = new BufferedInputStream(socket.getInputStream());
  }

  RawClient send(String bytes) throws IOException {
    return send(bytes.getBytes(StandardCharsets.ISO_8859_1));
  }

  RawClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  OutputStream output() {
    return out;
  }

  IncomingMessage<ResponseHead> response(String requestMethod) throws IOException {
    return MessageReader.readResponse(in, requestMethod, MessageLimits.DEFAULT);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
