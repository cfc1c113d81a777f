# `make bench`: the benchmark harness (bench/run.sh; results in docs/benchmarks.md). Not part of `make test`.
# BENCH_QUICK=1 make bench   runs a ~1-minute smoke version; BENCH_ONLY=rate,tls,reference,stream,idle,appengine
# picks groups. Other knobs (environment; all of them in docs/benchmarks.md, "How to run"): BENCH_JVM_FLAGS,
# BENCH_SERVER_FLAGS, BENCH_AGENT_FLAGS, BENCH_PROFILE=1 (JFR), BENCH_NICE, BENCH_RUNS, BENCH_DURATION,
# BENCH_WARMUP, BENCH_STREAM_MIB, BENCH_IDLE_POLLS.
.PHONY: bench bench-tools bench-compare

BENCH_APT_PACKAGES := nginx wrk curl

bench-tools:
	@missing=""; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
	  echo "bench: installing$$missing (apt-get)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench: bench-tools
	$(MVN) -q -DskipTests -pl server,agent,appengine-runner -am install
	bash bench/run.sh

# Two builds in one run, taking turns: BEFORE is a git ref or a directory with the two jars.
bench-compare: bench-tools
	@[ -n "$(BEFORE)" ] || { echo "usage: make bench-compare BEFORE=<git ref or jar directory> [ROUNDS=2]"; exit 2; }
	$(MVN) -q -DskipTests -pl server,agent,appengine-runner -am install
	bash bench/compare.sh "$(BEFORE)" $(or $(ROUNDS),2)
