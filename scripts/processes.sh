# Shell helpers shared by the launch scripts (make run, make run-appengine). Source it after setting
# PROGRAM (the name in error messages), RUN_DIR (where the logs go) and STOPPED (the farewell line).
# Needs bash; uses /dev/tcp so that no curl is needed.

pids=()

# Stops every process started with `start`, once; installed as the EXIT trap.
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "$STOPPED"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start LOG COMMAND...: runs COMMAND in the background with its output in LOG, and remembers it.
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# http_status PORT PATH [HEADER]: the status code of GET PATH on 127.0.0.1:PORT.
http_status() {
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n' "$2" "${3:+$3$'\r\n'}" >&3
  local line; IFS= read -r -t 5 line <&3 || true
  exec 3>&-
  echo "$line" | cut -d' ' -f2
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.1 s; gives up with one line.
wait_for() {
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  echo "$PROGRAM: $what did not come up within ${seconds}s; see $RUN_DIR/*.log" >&2
  exit 1
}

# require_free_port PORT VARIABLE: refuses to start on a port that something already holds.
require_free_port() {
  if port_open "$1"; then echo "$PROGRAM: port $1 is already in use (set $2=...)" >&2; exit 1; fi
}

# wait_for_any: returns when any started process exits, and says so.
wait_for_any() {
  wait -n "${pids[@]}" || true
  echo "$PROGRAM: a process exited; see $RUN_DIR/*.log" >&2
  exit 1
}
