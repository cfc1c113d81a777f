package io.github.invertingproxy.appengine;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.MessageLimits;
import java.time.Duration;

/** The tunables of {@link DatastoreExchangeStore}; {@link #defaults()} suits App Engine. */
public final class ExchangeSettings {
  /** App Engine's cap on one HTTP request or response: 32 MiB. */
  public static final long APP_ENGINE_MESSAGE_LIMIT = 32L * 1024 * 1024;
  /** Comfortably below both Datastore's 1 MB entity limit and Memcache's 1 MB value limit. */
  public static final int DEFAULT_PART_SIZE = 960 * 1024;

  private final long maxMessageBytes;
  private final int partSize;
  private final Duration pollInitial;
  private final Duration pollMax;
  private final Duration datastoreFallback;
  private final Duration cacheLifetime;
  private final MessageLimits messageLimits;
  private final int pollThreads;
  private final Duration uploadTimeout;

  private ExchangeSettings(Builder b) {
    this.maxMessageBytes = b.maxMessageBytes;
    this.partSize = b.partSize;
    this.pollInitial = b.pollInitial;
    this.pollMax = b.pollMax;
    this.datastoreFallback = b.datastoreFallback;
    this.cacheLifetime = b.cacheLifetime;
    this.messageLimits = b.messageLimits;
    this.pollThreads = b.pollThreads;
    this.uploadTimeout = b.uploadTimeout;
  }

  public static ExchangeSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The largest serialized request or response accepted, head and framing included. */
  public long maxMessageBytes() {
    return maxMessageBytes;
  }

  /** The size of one stored part of a message. */
  public int partSize() {
    return partSize;
  }

  /** The first pause of a wait that polls Memcache; it grows by half each time up to {@link #pollMax()}. */
  public Duration pollInitial() {
    return pollInitial;
  }

  public Duration pollMax() {
    return pollMax;
  }

  /** How often a wait also asks Datastore, in case Memcache lost what it was waiting for. */
  public Duration datastoreFallback() {
    return datastoreFallback;
  }

  /** How long cached parts and markers stay in Memcache; longer than any exchange lives. */
  public Duration cacheLifetime() {
    return cacheLifetime;
  }

  /** Bounds for parsing the agent's responses. */
  public MessageLimits messageLimits() {
    return messageLimits;
  }

  /** Threads that run the long polls' checks. */
  public int pollThreads() {
    return pollThreads;
  }

  /**
   * How long a client keeps waiting once the agent has begun sending the response, however long
   * its own wait was: the response is relayed only once stored whole, and a large one may take
   * longer to upload than the client's wait for it to begin.
   */
  public Duration uploadTimeout() {
    return uploadTimeout;
  }

  public static final class Builder {
    private long maxMessageBytes = APP_ENGINE_MESSAGE_LIMIT;
    private int partSize = DEFAULT_PART_SIZE;
    private Duration pollInitial = Duration.ofMillis(2);
    private Duration pollMax = Duration.ofMillis(20);
    private Duration datastoreFallback = Duration.ofSeconds(1);
    private Duration cacheLifetime = Duration.ofMinutes(10);
    private MessageLimits messageLimits = MessageLimits.DEFAULT;
    private int pollThreads = 4;
    private Duration uploadTimeout = Duration.ofMinutes(5);

    private Builder() {}

    public Builder maxMessageBytes(long bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxMessageBytes must be at least 1024, was " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    public Builder partSize(int bytes) {
      if (bytes < 1 || bytes > DEFAULT_PART_SIZE) {
        throw new IllegalArgumentException("partSize must be between 1 and " + DEFAULT_PART_SIZE + ", was " + bytes);
      }
      this.partSize = bytes;
      return this;
    }

    public Builder pollInitial(Duration d) {
      this.pollInitial = positive(d, "pollInitial");
      return this;
    }

    public Builder pollMax(Duration d) {
      this.pollMax = positive(d, "pollMax");
      return this;
    }

    public Builder datastoreFallback(Duration d) {
      this.datastoreFallback = positive(d, "datastoreFallback");
      return this;
    }

    public Builder cacheLifetime(Duration d) {
      this.cacheLifetime = positive(d, "cacheLifetime");
      return this;
    }

    public Builder messageLimits(MessageLimits limits) {
      this.messageLimits = requireNonNull(limits, "limits");
      return this;
    }

    public Builder pollThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("pollThreads must be at least 1, was " + threads);
      }
      this.pollThreads = threads;
      return this;
    }

    public Builder uploadTimeout(Duration d) {
      this.uploadTimeout = positive(d, "uploadTimeout");
      return this;
    }

    public ExchangeSettings build() {
      if (pollMax.compareTo(pollInitial) < 0) {
        throw new IllegalArgumentException("pollMax " + pollMax + " is shorter than pollInitial " + pollInitial);
      }
      return new ExchangeSettings(this);
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
