#!/usr/bin/env bash
# `make run`: the stand-alone proxy, a demo backend and an agent, on this machine.
# Ctrl-C (or any of the three dying) stops all three; nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
ADMIN_PORT=${ADMIN_PORT:-$((PORT + 1))}
BACKEND_PORT=${BACKEND_PORT:-$((PORT + 2))}
RUN_DIR=${RUN_DIR:-run}
SERVER_JAR=server/target/inverting-proxy-server.jar
AGENT_JAR=agent/target/inverting-proxy-agent.jar
URL="http://127.0.0.1:${PORT}/"
ADMIN_URL="http://127.0.0.1:${ADMIN_PORT}/"   # the admin API has a port of its own

for jar in "$SERVER_JAR" "$AGENT_JAR"; do
  [ -f "$jar" ] || { echo "make run: $jar is missing; run 'make build' first" >&2; exit 1; }
done
mkdir -p "$RUN_DIR"

PROGRAM="make run"
STOPPED="Stopped the proxy, the agent and the demo backend."
source scripts/processes.sh

require_free_port "$PORT" PORT
require_free_port "$ADMIN_PORT" ADMIN_PORT
require_free_port "$BACKEND_PORT" BACKEND_PORT

start "$RUN_DIR/backend.log" java -cp "$SERVER_JAR" io.github.invertingproxy.server.DemoBackend "$BACKEND_PORT"
start "$RUN_DIR/server.log" java -XX:+ExitOnOutOfMemoryError -jar "$SERVER_JAR" --port "$PORT" --admin-port "$ADMIN_PORT" --data-dir "$RUN_DIR/data"
wait_for "the demo backend" 30 port_open "$BACKEND_PORT"
wait_for "the proxy" 30 port_open "$PORT"
wait_for "the admin API" 30 port_open "$ADMIN_PORT"

if ! java -jar "$SERVER_JAR" backends get demo --api "$ADMIN_URL" >/dev/null 2>&1; then
  java -jar "$SERVER_JAR" backends add --api "$ADMIN_URL" --id demo --end-user allUsers \
    --backend-user demo-agent@localhost --path-prefixes / >/dev/null
fi

start "$RUN_DIR/agent.log" java -XX:+ExitOnOutOfMemoryError -jar "$AGENT_JAR" --proxy "$URL" --backend demo \
  --host "127.0.0.1:${BACKEND_PORT}" --credentials none
live() { [ "$(http_status "$PORT" /)" = "200" ]; }
wait_for "the agent" 30 live

cat <<MSG

  Inverting proxy is running.

    Open:           ${URL}
    Backend:        demo backend on 127.0.0.1:${BACKEND_PORT} (reached only through the agent)
    Admin API:      ${ADMIN_URL}api/backends   (its own port: every path of ${URL} is the backend's)
                    java -jar ${SERVER_JAR} backends list --api ${ADMIN_URL}
    Logs:           ${RUN_DIR}/server.log, ${RUN_DIR}/agent.log, ${RUN_DIR}/backend.log

  Press Ctrl-C to stop all three.

MSG

# Stop everything as soon as any one of the three exits.
wait_for_any
