#!/usr/bin/env bash
# `make bench`: measures the stand-alone proxy + agent against nginx serving static files directly.
# See docs/benchmarks.md. BENCH_QUICK=1 runs a ~1-minute smoke version (one run per case, short).
#
# Every process started here is stopped on exit (trap); every wait is bounded in count and time.
# Only loopback addresses are used.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  RUNS=1; DURATION=2; WARMUP=3; STREAM_MIB=128; IDLE_POLLS=1000; AE_DURATION=2
else
  RUNS=${BENCH_RUNS:-3}; DURATION=${BENCH_DURATION:-10}; WARMUP=${BENCH_WARMUP:-20}
  STREAM_MIB=${BENCH_STREAM_MIB:-1024}; IDLE_POLLS=${BENCH_IDLE_POLLS:-1000}; AE_DURATION=${BENCH_AE_DURATION:-10}
fi
# JVM flags for the server and the agent (printed in the report). A bounded heap keeps RSS honest.
JVM_FLAGS=${BENCH_JVM_FLAGS:-"-Xms64m -Xmx512m -XX:+UseParallelGC"}
JVM_FLAGS="$JVM_FLAGS -XX:+ExitOnOutOfMemoryError"  # a server out of memory exits rather than lingering
SERVER_FLAGS=${BENCH_SERVER_FLAGS:-""}
AGENT_FLAGS=${BENCH_AGENT_FLAGS:-""}
AE_FLAGS=${BENCH_APPENGINE_FLAGS:-""}
# On a shared machine, BENCH_NICE=-10 (as root) gives everything the bench starts a higher priority.
NICE=${BENCH_NICE:-}
PROFILE=${BENCH_PROFILE:-0}   # 1: record JFR of server and agent (in the work dir)
ONLY=${BENCH_ONLY:-rate,tls,reference,stream,idle,appengine}   # which groups of cases to run
wants() { case ",$ONLY," in *",$1,"*) return 0;; *) return 1;; esac; }

SERVER_JAR=${BENCH_SERVER_JAR:-server/target/inverting-proxy-server.jar}   # another build, to compare
AGENT_JAR=${BENCH_AGENT_JAR:-agent/target/inverting-proxy-agent.jar}
JAVA=${BENCH_JAVA:-java}   # the JVM that runs server, agents and runner: another JDK, to compare
AE_JAR=appengine-runner/target/inverting-proxy-appengine-runner.jar
for jar in "$SERVER_JAR" "$AGENT_JAR"; do
  [ -f "$jar" ] || { echo "bench: $jar is missing; run 'make build' first" >&2; exit 1; }
done
command -v "$JAVA" >/dev/null || { echo "bench: BENCH_JAVA $JAVA is not an executable" >&2; exit 1; }
for tool in nginx wrk curl java javac; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "bench: $tool is missing" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# 1,000 idle polls need more than the common default of 1,024 open files (inherited by all we start).
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d /tmp/inverting-proxy-bench.XXXXXX)
chmod 755 "$WORK"
RESULTS="$WORK/results.md"
pids=()
names=()

stop_pid() {  # pid: TERM, up to 10 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  local keys=("${!pids[@]}") k
  for ((k = ${#keys[@]} - 1; k >= 0; k--)); do stop_pid "${pids[${keys[$k]}]}"; done
  wait 2>/dev/null || true
  rm -f "$WORK"/www/*.bin
  echo "bench: stopped every process it started; logs in $WORK" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {  # name, command...: starts in the background, logs to $WORK/name.log
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  pids+=($!); names+=("$name")
  LAST_PID=$!
}
stop_named() {  # name: stops the process started under that name
  local i
  for i in "${!names[@]}"; do
    if [ "${names[$i]}" = "$1" ]; then stop_pid "${pids[$i]}"; unset "pids[$i]" "names[$i]"; fi
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
next_port=${BENCH_BASE_PORT:-18180}
free_port() {  # sets PORT_FOUND to a free loopback port
  for _ in $(seq 200); do
    next_port=$((next_port + 1))
    if ! port_open "$next_port"; then PORT_FOUND=$next_port; return 0; fi
  done
  echo "bench: no free port found" >&2; exit 1
}
wait_for() {  # description, seconds, command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  echo "bench: $what did not come up within ${seconds}s; see $WORK/*.log" >&2
  exit 1
}
http_status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }
status_is_200() { [ "$(http_status "$1")" = 200 ]; }
proc_kib() {  # pid field (VmRSS, VmHWM, Threads)
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}
cpu_ticks() {  # pid -> utime + stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
TICK_HZ=$(getconf CLK_TCK)
switch_counts() {  # pid -> "tid switches" per live thread (voluntary and involuntary)
  # A thread that ends between the glob and its read makes grep fail; what it did read still counts.
  { grep -H _ctxt_switches /proc/"$1"/task/*/status 2>/dev/null || true; } \
    | awk -F'[/:]' '{n[$5] += $NF} END {for (t in n) print t, n[t]}'
}
switches_since() {  # file of an earlier switch_counts, pid -> switches since then; a thread that
  # ended meanwhile is left out (its count went with it), one that started counts from 0
  switch_counts "$2" | awk 'NR == FNR {before[$1] = $2; next} {s += $2 - before[$1]} END {print s + 0}' "$1" -
}
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

if [ -n "$NICE" ]; then renice -n "$NICE" $$ >/dev/null; fi
echo "== machine"
echo "date:   $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpus:   $(nproc); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "kernel: $(uname -r)"
echo "java:   $("$JAVA" -version 2>&1 | head -2 | tr '\n' ' ')"
echo "nginx:  $("$NGINX" -v 2>&1 | sed 's/.*: //'); wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
echo "server jar: $SERVER_JAR; agent jar: $AGENT_JAR"
echo "JVM flags (server and agent): $JVM_FLAGS"
[ -n "$SERVER_FLAGS" ] && echo "server flags: $SERVER_FLAGS"
[ -n "$AGENT_FLAGS" ] && echo "agent flags: $AGENT_FLAGS"
echo "runs per case: $RUNS (median), wrk duration ${DURATION}s, warm-up ${WARMUP}s, stream ${STREAM_MIB} MiB"
echo "work dir: $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average at start: $LOAD_START${NICE:+ (bench processes at nice $NICE)}"
awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}' &&
  echo "WARNING: other processes are using this machine (load $LOAD_START on $(nproc) cpus); expect noisy numbers"

# --- the backend: nginx serving static files ---------------------------------------------------
mkdir -p "$WORK/www" "$WORK/nginx-tmp" "$WORK/probe"
head -c 100 /dev/zero | tr '\0' 'x' >"$WORK/www/100b.txt"
head -c 1048576 /dev/urandom >"$WORK/www/1m.bin"
# A real file (not a sparse one: reading holes is slow and uneven), read once so it is in the page cache.
head -c "$((STREAM_MIB * 1048576))" /dev/zero >"$WORK/www/stream.bin"
cat "$WORK/www/stream.bin" >/dev/null
chmod -R a+rX "$WORK/www"
free_port; NGINX_PORT=$PORT_FOUND
cat >"$WORK/nginx.conf" <<CONF
daemon off;
user root;
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path $WORK/nginx-tmp/body; proxy_temp_path $WORK/nginx-tmp/proxy;
  fastcgi_temp_path $WORK/nginx-tmp/fastcgi; uwsgi_temp_path $WORK/nginx-tmp/uwsgi; scgi_temp_path $WORK/nginx-tmp/scgi;
  default_type application/octet-stream;
  types { text/plain txt; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
CONF
start nginx "$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
wait_for nginx 10 status_is_200 "http://127.0.0.1:$NGINX_PORT/100b.txt"

javac -d "$WORK/probe" bench/Probe.java
free_port; SINK_PORT=$PORT_FOUND
start sink java -Xmx256m -cp "$WORK/probe" Probe sink "$SINK_PORT"
wait_for "the upload sink" 20 port_open "$SINK_PORT"

# --- the proxy and its agents -----------------------------------------------------------------
jfr() {  # name: JFR option when BENCH_PROFILE=1
  [ "$PROFILE" = 1 ] && echo "-XX:StartFlightRecording=filename=$WORK/$1.jfr,settings=profile,dumponexit=true" || true
}
start_server() {  # name port admin-port
  # shellcheck disable=SC2086
  start "$1" "$JAVA" $JVM_FLAGS $(jfr "$1") -jar "$SERVER_JAR" --port "$2" --admin-port "$3" $SERVER_FLAGS
  wait_for "the server ($1)" 30 port_open "$2"
  wait_for "the server's admin API ($1)" 30 port_open "$3"
}
add_backend() {  # admin-port id prefix
  java -jar "$SERVER_JAR" backends add --api "http://127.0.0.1:$1/" --id "$2" --end-user allUsers \
    --backend-user agent@example.com --path-prefixes "$3" >/dev/null
}
start_agent() {  # name server-port backend-id target-port
  # shellcheck disable=SC2086
  start "$1" "$JAVA" $JVM_FLAGS $(jfr "$1") -jar "$AGENT_JAR" --proxy "http://127.0.0.1:$2/" --backend "$3" \
    --host "127.0.0.1:$4" --credentials none $AGENT_FLAGS
}
free_port; PROXY_PORT=$PORT_FOUND
free_port; ADMIN_PORT=$PORT_FOUND
start_server server "$PROXY_PORT" "$ADMIN_PORT"
SERVER_PID=$LAST_PID
add_backend "$ADMIN_PORT" bench /
add_backend "$ADMIN_PORT" sink /upload
start_agent agent "$PROXY_PORT" bench "$NGINX_PORT"
AGENT_PID=$LAST_PID
start_agent agent-sink "$PROXY_PORT" sink "$SINK_PORT"
SINK_AGENT_PID=$LAST_PID
DIRECT="http://127.0.0.1:$NGINX_PORT"
PROXIED="http://127.0.0.1:$PROXY_PORT"
wait_for "the agent" 30 status_is_200 "$PROXIED/100b.txt"
wait_for "the upload agent" 30 status_is_200 "$PROXIED/upload/x"
cmp -s <(curl -s "$PROXIED/1m.bin") "$WORK/www/1m.bin" || { echo "bench: 1 MiB through the proxy differs" >&2; exit 1; }

# --- wrk cases --------------------------------------------------------------------------------
to_ms() {  # wrk latency (e.g. 85.00us, 1.20ms, 2.00s) -> ms
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.3f", n }'
}
run_wrk() {  # url connections seconds -> "rps p50ms p99ms errors"
  local threads=$(( $2 < 2 ? 1 : 2 ))
  local out
  local header=()
  [ -n "${WRK_HEADER:-}" ] && header=(-H "$WRK_HEADER")
  out=$(timeout $(( $3 + 60 )) wrk -t"$threads" -c"$2" -d"$3"s --latency "${header[@]}" "$1" 2>&1) || true
  echo "$out" >>"$WORK/wrk.log"
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  p50=$(to_ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  p99=$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  errors=$(echo "$out" | awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10} END {print e + 0}')
  echo "${rps:-0} ${p50:-0} ${p99:-0} $errors"
}

echo
echo "== warm-up (${WARMUP}s proxied, 100 B and 1 MiB)"
run_wrk "$DIRECT/100b.txt" 16 2 >/dev/null   # nginx needs little
# The JIT compiler needs tens of seconds of traffic before the proxy's code is compiled: in a
# profile of a 15 s run, C2 compilation was half of the server's CPU time.
run_wrk "$PROXIED/100b.txt" 16 "$WARMUP" >/dev/null
run_wrk "$PROXIED/1m.bin" 16 $(( WARMUP / 3 + 1 )) >/dev/null
run_wrk "$PROXIED/100b.txt" 1 $(( WARMUP / 3 + 1 )) >/dev/null
run_wrk "$PROXIED/100b.txt" 64 $(( WARMUP / 3 + 1 )) >/dev/null

fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN {printf "%.*f", d, v}'; }
ROWS=()
wrk_case() {  # label path connections target-ratio target-p50-ms
  local label=$1 path=$2 c=$3 target_ratio=$4 target_p50=$5
  local d_rps=() d_p50=() d_p99=() p_rps=() p_p50=() p_p99=() s_cpu=() a_cpu=() s_cs=() a_cs=() errs=0 r
  for ((r = 1; r <= RUNS; r++)); do
    read -r a b cc e < <(run_wrk "$DIRECT$path" "$c" "$DURATION")
    d_rps+=("$a"); d_p50+=("$b"); d_p99+=("$cc"); errs=$((errs + e))
    local s0 a0 s1 a1 sw aw
    s0=$(cpu_ticks "$SERVER_PID"); a0=$(cpu_ticks "$AGENT_PID")
    switch_counts "$SERVER_PID" >"$WORK/switches.server"; switch_counts "$AGENT_PID" >"$WORK/switches.agent"
    read -r a b cc e < <(run_wrk "$PROXIED$path" "$c" "$DURATION")
    s1=$(cpu_ticks "$SERVER_PID"); a1=$(cpu_ticks "$AGENT_PID")
    sw=$(switches_since "$WORK/switches.server" "$SERVER_PID"); aw=$(switches_since "$WORK/switches.agent" "$AGENT_PID")
    p_rps+=("$a"); p_p50+=("$b"); p_p99+=("$cc"); errs=$((errs + e))
    # CPU time per proxied request, in microseconds, of the server and of the agent.
    s_cpu+=("$(awk -v t=$((s1 - s0)) -v hz="$TICK_HZ" -v r="$a" -v d="$DURATION" 'BEGIN {printf "%.0f", (r > 0 ? t / hz * 1e6 / (r * d) : 0)}')")
    a_cpu+=("$(awk -v t=$((a1 - a0)) -v hz="$TICK_HZ" -v r="$a" -v d="$DURATION" 'BEGIN {printf "%.0f", (r > 0 ? t / hz * 1e6 / (r * d) : 0)}')")
    # Thread switches per proxied request: what blocking I/O costs beyond the work itself.
    s_cs+=("$(awk -v n="$sw" -v r="$a" -v d="$DURATION" 'BEGIN {printf "%.1f", (r > 0 ? n / (r * d) : 0)}')")
    a_cs+=("$(awk -v n="$aw" -v r="$a" -v d="$DURATION" 'BEGIN {printf "%.1f", (r > 0 ? n / (r * d) : 0)}')")
    echo "  $label run $r: direct ${d_rps[-1]} req/s p50 ${d_p50[-1]} ms, proxied ${p_rps[-1]} req/s p50 ${p_p50[-1]} ms p99 ${p_p99[-1]} ms; CPU/request server ${s_cpu[-1]} us, agent ${a_cpu[-1]} us; switches/request server ${s_cs[-1]}, agent ${a_cs[-1]}"
  done
  local dr pr dp50 pp50 dp99 pp99 ratio verdict
  dr=$(printf '%s\n' "${d_rps[@]}" | median); pr=$(printf '%s\n' "${p_rps[@]}" | median)
  dp50=$(printf '%s\n' "${d_p50[@]}" | median); pp50=$(printf '%s\n' "${p_p50[@]}" | median)
  dp99=$(printf '%s\n' "${d_p99[@]}" | median); pp99=$(printf '%s\n' "${p_p99[@]}" | median)
  ratio=$(awk -v p="$pr" -v d="$dr" 'BEGIN {printf "%.3f", (d > 0 ? p / d : 0)}')
  local scpu acpu scs acs
  scpu=$(printf '%s\n' "${s_cpu[@]}" | median); acpu=$(printf '%s\n' "${a_cpu[@]}" | median)
  scs=$(printf '%s\n' "${s_cs[@]}" | median); acs=$(printf '%s\n' "${a_cs[@]}" | median)
  verdict=$(awk -v r="$ratio" -v t="$target_ratio" -v p="$pp50" -v tp="$target_p50" -v e="$errs" 'BEGIN {
    if (t == "") { printf "%s", e ? "MISSED (" e " errors)" : "(no target)"; exit }
    ok = r >= t && (tp == "" || p <= tp) && e == 0
    printf "%s (ratio >= %s%s)%s", ok ? "met" : "MISSED", t, tp == "" ? "" : ", p50 <= " tp " ms", e ? "; " e " errors" : "" }')
  ROWS+=("| $label | $(fmt "$dr") req/s | $(fmt "$pr") req/s | $ratio | $(fmt "$dp50" 3) / $(fmt "$dp99" 3) ms | $(fmt "$pp50" 3) / $(fmt "$pp99" 3) ms | CPU/request: server $(fmt "$scpu") us, agent $(fmt "$acpu") us; switches/request: server $(fmt "$scs" 1), agent $(fmt "$acs" 1) | $verdict |")
}

echo
echo "== request rate (wrk, ${DURATION}s per run)"
if wants rate; then
  wrk_case "100 B, c=1" /100b.txt 1 0.15 0.5
  wrk_case "100 B, c=16" /100b.txt 16 "" ""  # measured, without a target of its own
  wrk_case "100 B, c=64" /100b.txt 64 0.20 ""
  wrk_case "1 MiB, c=16" /1m.bin 16 0.40 ""
  echo "  agent warnings during the rate cases: $(grep -c WARNING "$WORK/agent.log" || true)" \
    "($(grep WARNING "$WORK/agent.log" | sed 's/^[^ ]* //; s/request [0-9a-f]*/request ID/; s/[0-9][0-9]* bytes, [0-9][0-9]* ms/N bytes/' | sort | uniq -c | sort -rn | head -3 | tr -s ' ' | tr '\n' ';'))"
  echo "  TIME-WAIT sockets on the proxy's port: $(ss -tan state time-wait "( sport = :$PROXY_PORT or dport = :$PROXY_PORT )" 2>/dev/null | tail -n +2 | wc -l);" \
    "on the backend's: $(ss -tan state time-wait "( sport = :$NGINX_PORT or dport = :$NGINX_PORT )" 2>/dev/null | tail -n +2 | wc -l)" \
    "(wrk's direct runs close theirs too: up to one per connection and run)"
fi

# --- the same over TLS ------------------------------------------------------------------------
# Measured, without targets: a second server with --tls-cert/--tls-key (a private authority's
# certificate made here with openssl), its agent trusting that authority with --ca-cert, and wrk
# speaking HTTPS/1.1 to it. The direct column is still plain nginx.
if wants tls; then
  echo
  echo "== request rate over TLS (wrk over https, ${DURATION}s per run)"
  TLS_DIR="$WORK/tls"; mkdir -p "$TLS_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/ca.key" \
    -out "$TLS_DIR/ca.pem" -subj "/CN=bench CA" -days 2 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/key.pem" \
    -out "$TLS_DIR/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$TLS_DIR/san.cnf"
  openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
    -days 1 -extfile "$TLS_DIR/san.cnf" -out "$TLS_DIR/server.pem" 2>/dev/null
  cat "$TLS_DIR/server.pem" "$TLS_DIR/ca.pem" >"$TLS_DIR/fullchain.pem"
  free_port; TLS_PORT=$PORT_FOUND
  free_port; TLS_ADMIN_PORT=$PORT_FOUND
  # shellcheck disable=SC2086
  start server-tls "$JAVA" $JVM_FLAGS $(jfr server-tls) -jar "$SERVER_JAR" --port "$TLS_PORT" --admin-port "$TLS_ADMIN_PORT" \
    --tls-cert "$TLS_DIR/fullchain.pem" --tls-key "$TLS_DIR/key.pem" $SERVER_FLAGS
  TLS_SERVER_PID=$LAST_PID
  wait_for "the TLS server" 30 port_open "$TLS_ADMIN_PORT"
  java -jar "$SERVER_JAR" backends create --url "https://127.0.0.1:$TLS_ADMIN_PORT/" --ca-cert "$TLS_DIR/ca.pem" \
    --id bench --end-user allUsers --backend-user agent@example.com --path-prefixes / >/dev/null
  # shellcheck disable=SC2086
  start agent-tls "$JAVA" $JVM_FLAGS $(jfr agent-tls) -jar "$AGENT_JAR" --proxy "https://127.0.0.1:$TLS_PORT/" \
    --ca-cert "$TLS_DIR/ca.pem" --backend bench --host "127.0.0.1:$NGINX_PORT" --credentials none $AGENT_FLAGS
  TLS_AGENT_PID=$LAST_PID
  tls_ok() { [ "$(curl -s -o /dev/null -m 5 --cacert "$TLS_DIR/ca.pem" -w '%{http_code}' "$1" || true)" = 200 ]; }
  wait_for "the agent over TLS" 30 tls_ok "https://127.0.0.1:$TLS_PORT/100b.txt"
  run_wrk "https://127.0.0.1:$TLS_PORT/100b.txt" 16 $(( WARMUP / 2 + 1 )) >/dev/null
  PLAIN=("$PROXIED" "$SERVER_PID" "$AGENT_PID")
  PROXIED="https://127.0.0.1:$TLS_PORT"; SERVER_PID=$TLS_SERVER_PID; AGENT_PID=$TLS_AGENT_PID
  wrk_case "TLS: 100 B, c=16" /100b.txt 16 "" ""
  wrk_case "TLS: 100 B, c=64" /100b.txt 64 "" ""
  wrk_case "TLS: 1 MiB, c=16" /1m.bin 16 "" ""
  PROXIED=${PLAIN[0]}; SERVER_PID=${PLAIN[1]}; AGENT_PID=${PLAIN[2]}
  stop_named agent-tls
  stop_named server-tls
fi

# --- reference: the same two hops relayed by nginx --------------------------------------------
# Not a target: what an event-loop relay written in C does with the same topology on this machine
# (client -> "proxy" hop -> "agent" hop -> backend, kept-alive connections between hops), once
# streaming as the proxy does (proxy_buffering off) and once reading whole responses ahead into
# memory (16 x 64 KiB buffers).
ref_case() {  # label path connections front-url
  local label=$1 path=$2 c=$3 front=$4 d=() p=() pp50=() r
  for ((r = 1; r <= RUNS; r++)); do
    read -r a _ _ _ < <(run_wrk "$DIRECT$path" "$c" "$DURATION"); d+=("$a")
    read -r a b _ e < <(run_wrk "$front$path" "$c" "$DURATION"); p+=("$a"); pp50+=("$b")
    echo "  $label run $r: direct ${d[-1]} req/s, through nginx ${p[-1]} req/s p50 ${pp50[-1]} ms ($e errors)"
  done
  local dr pr ratio
  dr=$(printf '%s\n' "${d[@]}" | median); pr=$(printf '%s\n' "${p[@]}" | median)
  ratio=$(awk -v p="$pr" -v d="$dr" 'BEGIN {printf "%.3f", (d > 0 ? p / d : 0)}')
  ROWS+=("| reference: $label | $(fmt "$dr") req/s | $(fmt "$pr") req/s | $ratio | | $(fmt "$(printf '%s\n' "${pp50[@]}" | median)" 3) ms p50 | two nginx hops instead of server and agent | (reference) |")
}
if wants reference; then
  echo
  echo "== reference: two nginx hops (${DURATION}s per run)"
  free_port; REF_STREAM=$PORT_FOUND; free_port; REF_STREAM_MID=$PORT_FOUND
  free_port; REF_BUFFERED=$PORT_FOUND; free_port; REF_BUFFERED_MID=$PORT_FOUND
  relay() {  # listen-port upstream-name buffering-directives
    echo "  server { listen 127.0.0.1:$1; location / { proxy_pass http://$2; proxy_http_version 1.1;"
    echo "    proxy_set_header Connection \"\"; $3 } }"
  }
  {
    sed -n '1,/^http {/p' "$WORK/nginx.conf" | sed "s|$WORK/nginx.pid|$WORK/nginx-ref.pid|; s|$WORK/nginx-error.log|$WORK/nginx-ref-error.log|"
    echo "  access_log off; tcp_nodelay on; keepalive_requests 10000000; keepalive_timeout 300s;"
    echo "  client_body_temp_path $WORK/nginx-tmp/body; proxy_temp_path $WORK/nginx-tmp/proxy;"
    echo "  fastcgi_temp_path $WORK/nginx-tmp/fastcgi; uwsgi_temp_path $WORK/nginx-tmp/uwsgi; scgi_temp_path $WORK/nginx-tmp/scgi;"
    echo "  upstream backend { server 127.0.0.1:$NGINX_PORT; keepalive 128; }"
    echo "  upstream stream_mid { server 127.0.0.1:$REF_STREAM_MID; keepalive 128; }"
    echo "  upstream buffered_mid { server 127.0.0.1:$REF_BUFFERED_MID; keepalive 128; }"
    relay "$REF_STREAM_MID" backend "proxy_buffering off;"
    relay "$REF_STREAM" stream_mid "proxy_buffering off;"
    buffered="proxy_buffering on; proxy_buffers 16 64k; proxy_buffer_size 64k; proxy_max_temp_file_size 0;"
    relay "$REF_BUFFERED_MID" backend "$buffered"
    relay "$REF_BUFFERED" buffered_mid "$buffered"
    echo "}"
  } >"$WORK/nginx-ref.conf"
  start nginx-ref "$NGINX" -c "$WORK/nginx-ref.conf" -p "$WORK"
  wait_for "nginx (reference relays)" 10 status_is_200 "http://127.0.0.1:$REF_BUFFERED/100b.txt"
  run_wrk "http://127.0.0.1:$REF_STREAM/100b.txt" 16 2 >/dev/null
  ref_case "100 B, c=64, streamed" /100b.txt 64 "http://127.0.0.1:$REF_STREAM"
  ref_case "1 MiB, c=16, streamed" /1m.bin 16 "http://127.0.0.1:$REF_STREAM"
  ref_case "100 B, c=64, buffered" /100b.txt 64 "http://127.0.0.1:$REF_BUFFERED"
  ref_case "1 MiB, c=16, buffered" /1m.bin 16 "http://127.0.0.1:$REF_BUFFERED"
  stop_named nginx-ref
fi

# --- streaming --------------------------------------------------------------------------------
stream_once() {  # direction url -> "MiB/s seconds status"
  local out
  if [ "$1" = down ]; then
    out=$(timeout 600 curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "$2" || echo "000 0 0")
  else
    out=$(timeout 600 curl -s -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' \
      -X POST -T "$WORK/www/stream.bin" -w '%{http_code} %{size_upload} %{time_total}' "$2" || echo "000 0 0")
  fi
  echo "$out" | awk '{printf "%.1f %s %s\n", ($3 > 0 ? $2 / 1048576 / $3 : 0), $3, $1}'
}
stream_case() {  # label direction direct-url proxied-url agent-pid
  local label=$1 dir=$2 durl=$3 purl=$4 apid=$5
  local d=() p=() s_growth=() a_growth=() s_peak=() a_peak=() bad=0 r
  for ((r = 1; r <= RUNS; r++)); do
    read -r mib _ st < <(stream_once "$dir" "$durl"); d+=("$mib"); [ "$st" = 200 ] || bad=$((bad + 1))
    local s0 a0
    s0=$(proc_kib "$SERVER_PID" VmRSS); a0=$(proc_kib "$apid" VmRSS)
    reset_peak "$SERVER_PID"; reset_peak "$apid"
    read -r mib _ st < <(stream_once "$dir" "$purl"); p+=("$mib"); [ "$st" = 200 ] || bad=$((bad + 1))
    local s1 a1
    s1=$(proc_kib "$SERVER_PID" VmHWM); a1=$(proc_kib "$apid" VmHWM)
    s_growth+=($(( (s1 - s0) / 1024 ))); a_growth+=($(( (a1 - a0) / 1024 )))
    s_peak+=($(( s1 / 1024 ))); a_peak+=($(( a1 / 1024 )))
    echo "  $label run $r: direct ${d[-1]} MiB/s, proxied ${p[-1]} MiB/s; server RSS ${s0}->${s1} KiB peak, agent ${a0}->${a1} KiB peak"
  done
  local dm pm ratio sg ag sp ap verdict
  dm=$(printf '%s\n' "${d[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  sg=$(printf '%s\n' "${s_growth[@]}" | median); ag=$(printf '%s\n' "${a_growth[@]}" | median)
  sp=$(printf '%s\n' "${s_peak[@]}" | median); ap=$(printf '%s\n' "${a_peak[@]}" | median)
  ratio=$(awk -v p="$pm" -v d="$dm" 'BEGIN {printf "%.3f", (d > 0 ? p / d : 0)}')
  verdict=$(awk -v s="$sg" -v a="$ag" -v b="$bad" 'BEGIN {
    printf "%s (RSS growth <= 64 MiB)%s", (s <= 64 && a <= 64 && b == 0) ? "met" : "MISSED", b ? "; " b " failed transfers" : "" }')
  ROWS+=("| $label | $(fmt "$dm") MiB/s | $(fmt "$pm") MiB/s | $ratio | | | peak RSS server $(fmt "$sp") MiB (+$(fmt "$sg")), agent $(fmt "$ap") MiB (+$(fmt "$ag")) | $verdict |")
}
if wants stream; then
  echo
  echo "== streaming ${STREAM_MIB} MiB"
  stream_case "stream ${STREAM_MIB} MiB down" down "$DIRECT/stream.bin" "$PROXIED/stream.bin" "$AGENT_PID"
  stream_case "stream ${STREAM_MIB} MiB up" up "http://127.0.0.1:$SINK_PORT/upload/x" "$PROXIED/upload/x" "$SINK_AGENT_PID"
fi

# --- idle long polls, on a fresh server -------------------------------------------------------
if wants idle; then
  echo
  echo "== ${IDLE_POLLS} idle long polls on a fresh server"
  free_port; IDLE_PORT=$PORT_FOUND
  free_port; IDLE_ADMIN_PORT=$PORT_FOUND
  start_server server-idle "$IDLE_PORT" "$IDLE_ADMIN_PORT"
  IDLE_PID=$LAST_PID
  add_backend "$IDLE_ADMIN_PORT" idle /
  sleep 2
  idle=$(timeout 120 java -cp "$WORK/probe" Probe polls "$IDLE_PORT" idle "$IDLE_POLLS" "$IDLE_PID" 3000 || echo "failed")
  echo "  $idle"
  stop_named server-idle
  kv() { echo "$idle" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
  if [ "$idle" != failed ]; then
    rss_b=$(( $(kv rss_before_kib) / 1024 )); rss_h=$(( $(kv rss_held_kib) / 1024 ))
    th_b=$(kv threads_before); th_h=$(kv threads_held); held=$(kv held)
    verdict=$(awk -v h="$held" -v n="$IDLE_POLLS" -v r="$rss_h" 'BEGIN {
      printf "%s (all held, server RSS <= 512 MiB)", (h == n && r <= 512) ? "met" : "MISSED" }')
    ROWS+=("| ${IDLE_POLLS} idle long polls | | $held/$IDLE_POLLS held | | | | server RSS $rss_b -> $rss_h MiB, threads $th_b -> $th_h | $verdict |")
  else
    ROWS+=("| ${IDLE_POLLS} idle long polls | | failed | | | | see $WORK | MISSED |")
  fi
fi

# --- App Engine flavour on the local runner ---------------------------------------------------
try_wait() {  # seconds, command...: like wait_for, but returns 1 instead of exiting
  local seconds=$1; shift
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}
AE_COOKIE="Cookie: dev_appserver_login=bench@example.com:false:185804764220139124118"
ae_ok() { [ "$(curl -s -o /dev/null -m 5 -H "$AE_COOKIE" -w '%{http_code}' "$1")" = 200 ]; }
if wants appengine; then
  echo
  echo "== App Engine flavour on the local runner ($AE_JAR)"
  AE_NOTE=""
  if [ ! -f "$AE_JAR" ]; then
    AE_NOTE="not available: $AE_JAR is not built"
  else
    free_port; AE_PORT=$PORT_FOUND
    printf '%s' "bench-agent-token-$RANDOM$RANDOM$RANDOM" >"$WORK/ae-token"
    # shellcheck disable=SC2086
    start appengine "$JAVA" $JVM_FLAGS -jar "$AE_JAR" --port "$AE_PORT" --demo-agent-token "$(cat "$WORK/ae-token")" $AE_FLAGS
    AE_PID=$LAST_PID
    if ! try_wait 60 port_open "$AE_PORT"; then
      AE_NOTE="not available: the runner did not listen within 60 s ($(tail -1 "$WORK/appengine.log" | cut -c1-120))"
    elif ! try_wait 30 grep -q "Service agent listening on" "$WORK/appengine.log"; then
      AE_NOTE="not available: the runner did not name the agent service's port within 30 s"
    else
      # The agent calls the agent service on its own port (as on App Engine, where it has its own host).
      AE_AGENT_URL=$(sed -n 's/^Service agent listening on \(http:[^ ]*\) .*/\1/p' "$WORK/appengine.log" | head -1)
      # shellcheck disable=SC2086
      start agent-appengine "$JAVA" $JVM_FLAGS -jar "$AGENT_JAR" --proxy "$AE_AGENT_URL" --backend demo \
        --host "127.0.0.1:$NGINX_PORT" --credentials "token-file:$WORK/ae-token" $AGENT_FLAGS
      if ! try_wait 60 ae_ok "http://127.0.0.1:$AE_PORT/100b.txt"; then
        AE_NOTE="not available: no 200 through the runner within 60 s (last status $(curl -s -o /dev/null -m 5 -H "$AE_COOKIE" -w '%{http_code}' "http://127.0.0.1:$AE_PORT/100b.txt"); see $WORK/appengine.log)"
      fi
    fi
  fi
  if [ -n "$AE_NOTE" ]; then
    echo "  $AE_NOTE"
    ROWS+=("| App Engine flavour, 100 B | | | | | | $AE_NOTE | not measured |")
  else
    echo "  runner flags: $JVM_FLAGS --demo-agent-token T $AE_FLAGS"
    run_wrk_ae() { WRK_HEADER="$AE_COOKIE" run_wrk "$@"; }
    run_wrk_ae "http://127.0.0.1:$AE_PORT/100b.txt" 4 "$AE_DURATION" >/dev/null   # warm-up
    for c in 1 16; do
      d50=(); d99=(); a50=(); a99=(); ar=(); aerr=0
      for ((r = 1; r <= RUNS; r++)); do
        read -r _ b cc _ < <(run_wrk "$DIRECT/100b.txt" "$c" "$AE_DURATION"); d50+=("$b"); d99+=("$cc")
        read -r a b cc e < <(run_wrk_ae "http://127.0.0.1:$AE_PORT/100b.txt" "$c" "$AE_DURATION")
        ar+=("$a"); a50+=("$b"); a99+=("$cc"); aerr=$((aerr + e))
        echo "  c=$c run $r: App Engine flavour $a req/s, p50 $b ms, p99 $cc ms ($e errors)"
      done
      m_d50=$(printf '%s\n' "${d50[@]}" | median); m_d99=$(printf '%s\n' "${d99[@]}" | median)
      m_a50=$(printf '%s\n' "${a50[@]}" | median); m_a99=$(printf '%s\n' "${a99[@]}" | median)
      m_ar=$(printf '%s\n' "${ar[@]}" | median)
      add50=$(awk -v a="$m_a50" -v d="$m_d50" 'BEGIN {printf "%.2f", a - d}')
      add99=$(awk -v a="$m_a99" -v d="$m_d99" 'BEGIN {printf "%.2f", a - d}')
      verdict=$(awk -v x="$add50" -v e="$aerr" 'BEGIN {printf "%s (added p50 <= 30 ms)%s", (x <= 30 && e == 0) ? "met" : "MISSED", e ? "; " e " errors" : ""}')
      ROWS+=("| App Engine flavour, 100 B, c=$c | | $(fmt "$m_ar") req/s | | $(fmt "$m_d50" 3) / $(fmt "$m_d99" 3) ms | $(fmt "$m_a50" 3) / $(fmt "$m_a99" 3) ms | added latency p50 $add50 ms, p99 $add99 ms | $verdict |")
    done
  fi
  stop_named agent-appengine
  stop_named appengine
fi

# --- the table --------------------------------------------------------------------------------
{
  echo "| case | direct | proxied | ratio | p50 / p99 direct | p50 / p99 proxied | other | target |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} >"$RESULTS"
echo
echo "== results ($(date -u '+%Y-%m-%d'), $(nproc) cpus, JVM flags: $JVM_FLAGS, load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg))"
cat "$RESULTS"
