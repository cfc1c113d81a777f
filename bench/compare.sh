#!/usr/bin/env bash
# `make bench-compare BEFORE=REF`: bench/run.sh's cases for two builds on one machine in one run, the
# builds taking turns so that a drift of the machine (load, heat) falls on both alike. BEFORE is a git
# ref (built in a temporary worktree) or a directory holding inverting-proxy-server.jar and
# inverting-proxy-agent.jar; "after" is this checkout's build. ROUNDS (default 2) turns each;
# BENCH_ONLY (default rate) picks the groups, and every other BENCH_* knob applies to both builds.
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=${1:?usage: bench/compare.sh GIT_REF_OR_JAR_DIR [ROUNDS]}
ROUNDS=${2:-2}
AFTER_DIR=$(mktemp -d /tmp/inverting-proxy-compare.XXXXXX)
cleanup() { [ -n "${TREE:-}" ] && git worktree remove --force "$TREE" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [ -d "$BEFORE" ]; then
  BEFORE_DIR=$BEFORE
else
  git rev-parse --verify -q "$BEFORE^{commit}" >/dev/null || { echo "bench/compare.sh: $BEFORE is neither a directory nor a git ref" >&2; exit 1; }
  TREE="$AFTER_DIR/before-tree"
  git worktree add -q --detach "$TREE" "$BEFORE"
  echo "building $BEFORE ($(git rev-parse --short "$BEFORE")) in $TREE"
  (cd "$TREE" && ${MVN:-mvn} -B -q -DskipTests -pl server,agent -am package)
  BEFORE_DIR="$AFTER_DIR/before"
  mkdir -p "$BEFORE_DIR"
  cp "$TREE/server/target/inverting-proxy-server.jar" "$TREE/agent/target/inverting-proxy-agent.jar" "$BEFORE_DIR/"
fi
for jar in inverting-proxy-server.jar inverting-proxy-agent.jar; do
  [ -f "$BEFORE_DIR/$jar" ] || { echo "bench/compare.sh: $BEFORE_DIR/$jar is missing" >&2; exit 1; }
done
for jar in server/target/inverting-proxy-server.jar agent/target/inverting-proxy-agent.jar; do
  [ -f "$jar" ] || { echo "bench/compare.sh: $jar is missing; run 'make build' first" >&2; exit 1; }
done

echo "before: $BEFORE_DIR; after: this checkout ($(git rev-parse --short HEAD)); $ROUNDS rounds; groups ${BENCH_ONLY:-rate}"
rows=()
for round in $(seq "$ROUNDS"); do
  for build in before after; do
    if [ "$build" = before ]; then
      server=$BEFORE_DIR/inverting-proxy-server.jar; agent=$BEFORE_DIR/inverting-proxy-agent.jar
    else
      server=server/target/inverting-proxy-server.jar; agent=agent/target/inverting-proxy-agent.jar
    fi
    log="$AFTER_DIR/$build-$round.log"
    echo "== round $round, $build (log: $log)"
    if ! BENCH_ONLY=${BENCH_ONLY:-rate} BENCH_SERVER_JAR=$server BENCH_AGENT_JAR=$agent bash bench/run.sh >"$log" 2>&1; then
      echo "bench/compare.sh: the $build run failed; the end of its log:" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    while IFS= read -r row; do rows+=("| $build | $round ${row}"); done < <(sed -n '/^| case /,$p' "$log" | grep '^| ' | grep -v '^| case \|^|---')
  done
done
echo
echo "== both builds ($(date -u '+%Y-%m-%d'), $(nproc) cpus)"
echo "| build | round | case | direct | proxied | ratio | p50 / p99 direct | p50 / p99 proxied | other | target |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
