#!/usr/bin/env bash
# `make run-appengine`: the App Engine flavour on this machine (the three services on the App
# Engine stubs, routed by host name as App Engine routes them), a demo backend and our agent. Ctrl-C (or any of the three
# dying) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
INSTANCES=${INSTANCES:-1}  # of each service
BACKEND_PORT=${BACKEND_PORT:-$((PORT + 1))}
# Each service's own port, as on the dev server: default on SERVICE_PORT, agent and api on the next two.
SERVICE_PORT=${SERVICE_PORT:-$((PORT + 2))}
AGENT_PORT=$((SERVICE_PORT + 1))
API_PORT=$((SERVICE_PORT + 2))
RUN_DIR=${RUN_DIR:-run/appengine}
RUNNER_JAR=appengine-runner/target/inverting-proxy-appengine-runner.jar
AGENT_JAR=agent/target/inverting-proxy-agent.jar
SERVER_JAR=server/target/inverting-proxy-server.jar  # holds the demo backend
URL="http://127.0.0.1:${PORT}/"
# The agent and api services by host name on the main port, as on App Engine (browsers resolve
# *.localhost; the JDK and some curl builds do not: send the Host header), and on their own ports.
AGENT_HOST_URL="http://agent-dot-localhost:${PORT}/"
API_HOST_URL="http://api-dot-localhost:${PORT}/"
AGENT_URL="http://127.0.0.1:${AGENT_PORT}/"
API_URL="http://127.0.0.1:${API_PORT}/"
USER_COOKIE="dev_appserver_login=you@example.com:false:1"

for jar in "$RUNNER_JAR" "$AGENT_JAR" "$SERVER_JAR"; do
  [ -f "$jar" ] || { echo "make run-appengine: $jar is missing; run 'make build' first" >&2; exit 1; }
done
mkdir -p "$RUN_DIR"
# The demo agent's bearer token; the runner maps it to the demo agent's account.
TOKEN_FILE="$RUN_DIR/agent-token"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN_FILE"
TOKEN=$(cat "$TOKEN_FILE")
# An administrator's bearer token, to register the demo backend through the api service.
ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

PROGRAM="make run-appengine"
STOPPED="Stopped the App Engine runner, the agent and the demo backend."
source scripts/processes.sh
status_as_user() { http_status "$PORT" "$1" "Cookie: $USER_COOKIE"; }

require_free_port "$PORT" PORT
require_free_port "$BACKEND_PORT" BACKEND_PORT
for p in "$SERVICE_PORT" "$AGENT_PORT" "$API_PORT"; do require_free_port "$p" SERVICE_PORT; done

start "$RUN_DIR/backend.log" java -cp "$SERVER_JAR" io.github.invertingproxy.server.DemoBackend "$BACKEND_PORT"
start "$RUN_DIR/runner.log" java -XX:+ExitOnOutOfMemoryError -jar "$RUNNER_JAR" --port "$PORT" --first-service-port "$SERVICE_PORT" \
  --oauth-tokens "$TOKEN=demo-agent@localhost,$ADMIN_TOKEN=admin@localhost:admin" \
  --datastore-file "$RUN_DIR/datastore.bin" --instances "$INSTANCES"
wait_for "the demo backend" 30 port_open "$BACKEND_PORT"
wait_for "the App Engine runner" 60 port_open "$API_PORT"

# The demo backend's record, through the admin API of the api service.
if ! java -jar "$SERVER_JAR" backends get demo --api "$API_URL" --token "$ADMIN_TOKEN" >/dev/null 2>&1; then
  java -jar "$SERVER_JAR" backends add --api "$API_URL" --token "$ADMIN_TOKEN" --id demo --end-user allUsers \
    --backend-user demo-agent@localhost --path-prefixes / >/dev/null
fi

start "$RUN_DIR/agent.log" java -XX:+ExitOnOutOfMemoryError -jar "$AGENT_JAR" --proxy "$AGENT_URL" --backend demo --host "127.0.0.1:${BACKEND_PORT}" \
  --credentials "token-file:$TOKEN_FILE"
live() { [ "$(status_as_user /)" = "200" ]; }
wait_for "the agent" 30 live

cat <<MSG

  The App Engine flavour is running (services default, agent and api on the App Engine stubs,
  routed by host name as on App Engine, and each on a port of its own).

    Open:        ${URL}   (the proxy, service default: every path goes to the backends;
                 also on http://127.0.0.1:${SERVICE_PORT}/)
    Agents:      ${AGENT_HOST_URL} or ${AGENT_URL}   (service agent)
    Admin API:   ${API_HOST_URL}api/backends or ${API_URL}api/backends   (service api)
    Sign in:     the browser is sent to the dev sign-in page (/_ah/login): any email will do;
                 tick "Sign in as Administrator" for the admin API. Or send the cookie yourself:
                   curl -b '${USER_COOKIE}' ${URL}
                   curl -b 'dev_appserver_login=admin@example.com:true:1' ${API_URL}api/backends
                   curl -H 'Host: api-dot-localhost' -b 'dev_appserver_login=admin@example.com:true:1' ${URL}api/backends
    Backend:     demo backend on 127.0.0.1:${BACKEND_PORT} (for allUsers; reached only through the agent)
    Agent:       demo-agent@localhost, bearer token in ${TOKEN_FILE}
    Logs:        ${RUN_DIR}/runner.log, ${RUN_DIR}/agent.log, ${RUN_DIR}/backend.log

  Press Ctrl-C to stop all three.

MSG

# Stop everything as soon as any one of the three exits.
wait_for_any
