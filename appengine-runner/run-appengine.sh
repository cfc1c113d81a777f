#!/usr/bin/env bash
# `make run-appengine`: the App Engine flavour on this machine (the three services on the App
# Engine stubs, routed by dispatch.yaml), a demo backend and our agent. Ctrl-C (or any of the three
# dying) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
BACKEND_PORT=${BACKEND_PORT:-$((PORT + 1))}
RUN_DIR=${RUN_DIR:-run/appengine}
RUNNER_JAR=appengine-runner/target/inverting-proxy-appengine-runner.jar
AGENT_JAR=agent/target/inverting-proxy-agent.jar
SERVER_JAR=server/target/inverting-proxy-server.jar  # holds the demo backend
URL="http://127.0.0.1:${PORT}/"
USER_COOKIE="dev_appserver_login=you@example.com:false:1"

for jar in "$RUNNER_JAR" "$AGENT_JAR" "$SERVER_JAR"; do
  [ -f "$jar" ] || { echo "make run-appengine: $jar is missing; run 'make build' first" >&2; exit 1; }
done
mkdir -p "$RUN_DIR"
# The demo agent's bearer token; the runner maps it to the demo agent's account.
TOKEN_FILE="$RUN_DIR/agent-token"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN_FILE"
TOKEN=$(cat "$TOKEN_FILE")

pids=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "Stopped the App Engine runner, the agent and the demo backend."
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
status_as_user() {  # the HTTP status of GET $1 through the proxy, signed in; no curl needed
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n' "$1" "$USER_COOKIE" >&3
  local line; IFS= read -r -t 5 line <&3 || true
  exec 3>&-
  echo "$line" | cut -d' ' -f2
}
wait_for() {  # description, seconds, command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  echo "make run-appengine: $what did not come up within ${seconds}s; see $RUN_DIR/*.log" >&2
  exit 1
}

if port_open "$PORT"; then echo "make run-appengine: port $PORT is already in use (set PORT=...)" >&2; exit 1; fi
if port_open "$BACKEND_PORT"; then echo "make run-appengine: port $BACKEND_PORT is already in use (set BACKEND_PORT=...)" >&2; exit 1; fi

java -cp "$SERVER_JAR" io.github.invertingproxy.server.DemoBackend "$BACKEND_PORT" >"$RUN_DIR/backend.log" 2>&1 &
pids+=($!)
java -jar "$RUNNER_JAR" --port "$PORT" --demo-agent-token "$TOKEN" --datastore-file "$RUN_DIR/datastore.bin" \
  >"$RUN_DIR/runner.log" 2>&1 &
pids+=($!)
wait_for "the demo backend" 30 port_open "$BACKEND_PORT"
wait_for "the App Engine runner" 60 port_open "$PORT"

java -jar "$AGENT_JAR" --proxy "$URL" --backend demo --host "127.0.0.1:${BACKEND_PORT}" \
  --credentials "token-file:$TOKEN_FILE" >"$RUN_DIR/agent.log" 2>&1 &
pids+=($!)
live() { [ "$(status_as_user /)" = "200" ]; }
wait_for "the agent" 30 live

cat <<MSG

  The App Engine flavour is running (services default, agent and api on the App Engine stubs,
  routed by dispatch.yaml).

    Open:        ${URL}
    Sign in:     the browser is sent to the dev sign-in page (/_ah/login): any email will do;
                 tick "Sign in as Administrator" for the admin API. Or send the cookie yourself:
                   curl -b '${USER_COOKIE}' ${URL}
                   curl -b 'dev_appserver_login=admin@example.com:true:1' ${URL}api/backends
    Backend:     demo backend on 127.0.0.1:${BACKEND_PORT} (for allUsers; reached only through the agent)
    Agent:       demo-agent@localhost, bearer token in ${TOKEN_FILE}
    Logs:        ${RUN_DIR}/runner.log, ${RUN_DIR}/agent.log, ${RUN_DIR}/backend.log

  Press Ctrl-C to stop all three.

MSG

# Stop everything as soon as any one of the three exits.
wait -n "${pids[@]}" || true
echo "make run-appengine: a process exited; see $RUN_DIR/*.log" >&2
exit 1
