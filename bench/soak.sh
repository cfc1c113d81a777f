#!/usr/bin/env bash
# `make soak`: mixed traffic through the stand-alone server and our agent while the agent is killed and
# restarted and the server restarted once; see bench/soak/Soak.java and docs/reliability.md.
# SOAK_MINUTES (default 10), SOAK_CLIENTS (64), SOAK_SEED, SOAK_JVM_FLAGS. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER_JAR=server/target/inverting-proxy-server.jar
AGENT_JAR=agent/target/inverting-proxy-agent.jar
for jar in "$SERVER_JAR" "$AGENT_JAR"; do
  [ -f "$jar" ] || { echo "soak: $jar is missing; run 'make build' first" >&2; exit 1; }
done
# 64 clients, their connections through server and agent, and the backend's: more than 1,024 files.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
WORK=$(mktemp -d /tmp/inverting-proxy-soak.XXXXXX)
javac -d "$WORK/classes" -cp "$SERVER_JAR" bench/soak/*.java
echo "soak: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak: command: SOAK_MINUTES=${SOAK_MINUTES:-10} make soak"
# The soak program stops the processes it started, also on Ctrl-C; logs stay in $WORK.
exec java -Xmx512m -cp "$SERVER_JAR:$WORK/classes" Soak "$SERVER_JAR" "$AGENT_JAR" "$WORK"
