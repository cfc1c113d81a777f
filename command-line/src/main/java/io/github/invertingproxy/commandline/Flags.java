package io.github.invertingproxy.commandline;

import static java.util.Objects.requireNonNull;

import io.github.invertingproxy.protocol.GoDuration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Command-line flags in the syntax of Go's {@code flag} package, which the original proxy and agent
 * use: {@code -name value}, {@code --name value}, {@code --name=value}, and bare {@code --name} for a
 * boolean. A flag may fall back to an environment variable (the Docker image's way of configuring).
 * Errors are one line, meant to be printed as they are.
 */
public final class Flags {
  private final String program;
  private final String summary;
  private final Map<String, Flag<?>> flags = new LinkedHashMap<>();
  private final Map<String, String> env;

  public Flags(String program, String summary, Map<String, String> env) {
    this.program = requireNonNull(program, "program");
    this.summary = requireNonNull(summary, "summary");
    this.env = requireNonNull(env, "env");
  }

  public Flag<String> string(String name, String defaultValue, String help) {
    return add(new Flag<>(name, defaultValue, help, "string", s -> s));
  }

  public Flag<Integer> integer(String name, int defaultValue, String help) {
    return add(new Flag<>(name, defaultValue, help, "int", s -> {
      try {
        return Integer.parseInt(s.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not an integer: \"" + s + "\"");
      }
    }));
  }

  /** A number of bytes: digits, optionally followed by {@code KiB}, {@code MiB} or {@code GiB}. */
  public Flag<Long> byteCount(String name, long defaultValue, String help) {
    return add(new Flag<>(name, defaultValue, help, "bytes", Flags::parseByteCount));
  }

  public Flag<Duration> duration(String name, Duration defaultValue, String help) {
    return add(new Flag<>(name, defaultValue, help, "duration", GoDuration::parse));
  }

  public Flag<Boolean> bool(String name, boolean defaultValue, String help) {
    return add(new Flag<>(name, defaultValue, help, "", Flags::parseBool));
  }

  private <T> Flag<T> add(Flag<T> flag) {
    if (flags.putIfAbsent(flag.name, flag) != null) {
      throw new IllegalStateException("flag --" + flag.name + " defined twice");
    }
    return flag;
  }

  /**
   * Parses {@code args}; returns the positional arguments left over.
   *
   * @throws UsageException with a one-line message for an unknown flag, a missing or bad value, or
   *     {@code --help} (then {@link UsageException#isHelp()} is true)
   */
  public List<String> parse(String... args) throws UsageException {
    List<String> positional = new ArrayList<>();
    for (Flag<?> f : flags.values()) {
      if (f.envVar != null) {
        String v = env.get(f.envVar);
        if (v != null && !v.isEmpty()) {
          f.set(v, "environment variable " + f.envVar);
        }
      }
    }
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--")) {
        for (int j = i + 1; j < args.length; j++) {
          positional.add(args[j]);
        }
        break;
      }
      if (!arg.startsWith("-") || arg.equals("-")) {
        positional.add(arg);
        continue;
      }
      String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
      String name = body;
      String value = null;
      int eq = body.indexOf('=');
      if (eq >= 0) {
        name = body.substring(0, eq);
        value = body.substring(eq + 1);
      }
      if (name.equals("help") || name.equals("h")) {
        throw new UsageException(usage(), true);
      }
      Flag<?> flag = flags.get(name);
      if (flag == null) {
        throw new UsageException("unknown flag --" + name + " (run " + program + " --help for the list)", false);
      }
      if (value == null) {
        if (flag.kind.isEmpty()) {
          value = "true";
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new UsageException("flag --" + name + " needs a value", false);
        }
      }
      flag.set(value, "flag --" + name);
    }
    return positional;
  }

  /** The full help text: summary, then every flag with its type, default and environment variable. */
  public String usage() {
    StringBuilder b = new StringBuilder();
    b.append("Usage: ").append(program).append(" [flags]\n\n").append(summary).append("\n\nFlags:\n");
    for (Flag<?> f : flags.values()) {
      b.append("  --").append(f.name);
      if (!f.kind.isEmpty()) {
        b.append(' ').append(f.kind);
      }
      b.append("\n      ").append(f.help.replace("\n", "\n      "));
      String def = f.defaultText();
      if (!def.isEmpty()) {
        b.append(" (default ").append(def).append(')');
      }
      if (f.envVar != null) {
        b.append(" [env ").append(f.envVar).append(']');
      }
      b.append('\n');
    }
    return b.toString();
  }

  private static long parseByteCount(String s) {
    String t = s.trim();
    long unit = 1;
    for (String[] suffix : new String[][] {{"KiB", "10"}, {"MiB", "20"}, {"GiB", "30"}}) {
      if (t.endsWith(suffix[0])) {
        unit = 1L << Integer.parseInt(suffix[1]);
        t = t.substring(0, t.length() - 3).trim();
        break;
      }
    }
    try {
      long n = Long.parseLong(t);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a byte count (digits, optionally KiB, MiB or GiB): \"" + s + "\"");
    }
  }

  private static boolean parseBool(String s) {
    switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "1": case "t": case "true": case "yes":
        return true;
      case "0": case "f": case "false": case "no": case "":
        return false;
      default:
        throw new IllegalArgumentException("not a boolean: \"" + s + "\"");
    }
  }

  /** One flag's definition and, once parsed, its value. */
  public static final class Flag<T> {
    final String name;
    final String help;
    final String kind;
    private final Function<String, T> parser;
    private final T defaultValue;
    private T value;
    private boolean set;
    String envVar;

    Flag(String name, T defaultValue, String help, String kind, Function<String, T> parser) {
      this.name = requireNonNull(name, "name");
      this.help = requireNonNull(help, "help");
      this.kind = kind;
      this.parser = parser;
      this.defaultValue = defaultValue;
      this.value = defaultValue;
    }

    /** Takes the value from {@code variable} when the command line does not give one. */
    public Flag<T> env(String variable) {
      this.envVar = requireNonNull(variable, "variable");
      return this;
    }

    public T get() {
      return value;
    }

    /** True when the command line or the environment gave a value. */
    public boolean isSet() {
      return set;
    }

    public String name() {
      return name;
    }

    void set(String text, String source) throws UsageException {
      try {
        value = parser.apply(text);
        set = true;
      } catch (IllegalArgumentException e) {
        throw new UsageException("invalid value for " + source + ": " + e.getMessage(), false);
      }
    }

    String defaultText() {
      if (defaultValue == null) {
        return "";
      }
      if (defaultValue instanceof Duration d) {
        return GoDuration.format(d);
      }
      if (defaultValue instanceof String s) {
        return s.isEmpty() ? "" : "\"" + s + "\"";
      }
      if (defaultValue instanceof Boolean b) {
        return b ? "true" : "";
      }
      return defaultValue.toString();
    }
  }

  /** A command line that cannot be used; the message is one line unless it is the help text. */
  public static final class UsageException extends Exception {
    private final boolean help;

    public UsageException(String message, boolean help) {
      super(message);
      this.help = help;
    }

    public boolean isHelp() {
      return help;
    }
  }
}
