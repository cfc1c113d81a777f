package io.github.invertingproxy.core;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.MessageLimits;
import java.time.Duration;

/** The knobs of the proxy's servlets; immutable. */
public final class ProxySettings {
  private final Duration responseTimeout;
  private final Duration pendingTimeout;
  private final MessageLimits messageLimits;
  private final BufferBudget bufferBudget;

  private ProxySettings(Builder b) {
    this.bufferBudget = b.bufferBudget != null ? b.bufferBudget : BufferBudget.quarterOfHeap();
    this.responseTimeout = b.responseTimeout;
    this.pendingTimeout = b.pendingTimeout;
    this.messageLimits = b.messageLimits;
  }

  public static ProxySettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** How long a client waits for its response to begin before it gets 504. */
  public Duration responseTimeout() {
    return responseTimeout;
  }

  /** How long {@code agent/pending} is held when nothing is waiting. */
  public Duration pendingTimeout() {
    return pendingTimeout;
  }

  /** Bounds on the heads of client requests and of agents' serialized responses. */
  public MessageLimits messageLimits() {
    return messageLimits;
  }

  /** The bytes that requests waiting without a thread may hold in memory all together. */
  public BufferBudget bufferBudget() {
    return bufferBudget;
  }

  public static final class Builder {
    private Duration responseTimeout = Duration.ofSeconds(60);
    private Duration pendingTimeout = Duration.ofSeconds(30);
    private MessageLimits messageLimits = MessageLimits.DEFAULT;
    private BufferBudget bufferBudget;

    private Builder() {}

    public Builder responseTimeout(Duration d) {
      this.responseTimeout = positive(d, "responseTimeout");
      return this;
    }

    public Builder pendingTimeout(Duration d) {
      this.pendingTimeout = positive(d, "pendingTimeout");
      return this;
    }

    public Builder messageLimits(MessageLimits limits) {
      this.messageLimits = requireNonNull(limits, "limits");
      return this;
    }

    /** Shared by every servlet built on these settings; by default a quarter of the heap. */
    public Builder bufferBudget(BufferBudget budget) {
      this.bufferBudget = requireNonNull(budget, "budget");
      return this;
    }

    public ProxySettings build() {
      return new ProxySettings(this);
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }
  }
}
