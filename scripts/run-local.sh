#!/usr/bin/env bash
# `make run`: the stand-alone proxy, a demo backend and an agent, on this machine.
# Ctrl-C (or any of the three dying) stops all three; nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
BACKEND_PORT=${BACKEND_PORT:-$((PORT + 1))}
RUN_DIR=${RUN_DIR:-run}
SERVER_JAR=server/target/inverting-proxy-server.jar
AGENT_JAR=agent/target/inverting-proxy-agent.jar
URL="http://127.0.0.1:${PORT}/"

for jar in "$SERVER_JAR" "$AGENT_JAR"; do
  [ -f "$jar" ] || { echo "make run: $jar is missing; run 'make build' first" >&2; exit 1; }
done
mkdir -p "$RUN_DIR"

pids=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "Stopped the proxy, the agent and the demo backend."
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
status_of() {  # the HTTP status of GET $2 on port $1, without curl
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  local line; IFS= read -r -t 5 line <&3 || true
  exec 3>&-
  echo "$line" | cut -d' ' -f2
}
wait_for() {  # description, seconds, command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  echo "make run: $what did not come up within ${seconds}s; see $RUN_DIR/*.log" >&2
  exit 1
}

if port_open "$PORT"; then echo "make run: port $PORT is already in use (set PORT=...)" >&2; exit 1; fi
if port_open "$BACKEND_PORT"; then echo "make run: port $BACKEND_PORT is already in use (set BACKEND_PORT=...)" >&2; exit 1; fi

java -cp "$SERVER_JAR" io.github.invertingproxy.server.DemoBackend "$BACKEND_PORT" >"$RUN_DIR/backend.log" 2>&1 &
pids+=($!)
java -jar "$SERVER_JAR" --port "$PORT" --data-dir "$RUN_DIR/data" >"$RUN_DIR/server.log" 2>&1 &
pids+=($!)
wait_for "the demo backend" 30 port_open "$BACKEND_PORT"
wait_for "the proxy" 30 port_open "$PORT"

if ! java -jar "$SERVER_JAR" backends get demo --api "$URL" >/dev/null 2>&1; then
  java -jar "$SERVER_JAR" backends add --api "$URL" --id demo --end-user allUsers \
    --backend-user demo-agent@localhost --path-prefixes / >/dev/null
fi

java -jar "$AGENT_JAR" --proxy "$URL" --backend demo --host "127.0.0.1:${BACKEND_PORT}" --credentials none \
  >"$RUN_DIR/agent.log" 2>&1 &
pids+=($!)
live() { [ "$(status_of "$PORT" /)" = "200" ]; }
wait_for "the agent" 30 live

cat <<MSG

  Inverting proxy is running.

    Open:           ${URL}
    Backend:        demo backend on 127.0.0.1:${BACKEND_PORT} (reached only through the agent)
    Admin API:      ${URL}api/backends
    Logs:           ${RUN_DIR}/server.log, ${RUN_DIR}/agent.log, ${RUN_DIR}/backend.log

  Press Ctrl-C to stop all three.

MSG

# Stop everything as soon as any one of the three exits.
wait -n "${pids[@]}" || true
echo "make run: a process exited; see $RUN_DIR/*.log" >&2
exit 1
