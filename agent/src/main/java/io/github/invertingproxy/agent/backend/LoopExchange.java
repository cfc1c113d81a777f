package io.github.invertingproxy.agent.backend;

/** One request with the {@link BackendLoop}, from its write to the end of its response. */
final class LoopExchange {
  final byte[] request;
  final boolean noBody;
  final boolean retryable;
  final BackendLoop.Listener listener;
  /** System.nanoTime when the forwarding timeout passes; 0 for none. */
  final long deadline;
  boolean retried;

  LoopExchange(byte[] request, boolean noBody, boolean retryable, BackendLoop.Listener listener, long deadline) {
    this.request = request;
    this.noBody = noBody;
    this.retryable = retryable;
    this.listener = listener;
    this.deadline = deadline;
  }
}
