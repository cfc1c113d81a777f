# Inverting Proxy for Java. Needs JDK 17+, Maven and make.
MVN ?= mvn -B
PORT ?= 8080

SERVER_JAR := server/target/inverting-proxy-server.jar
AGENT_JAR := agent/target/inverting-proxy-agent.jar

.PHONY: help build test run clean

help:
	@echo "make run     start the stand-alone proxy, a demo backend and an agent (PORT=$(PORT))"
	@echo "make test    build and run every test (mvn verify)"
	@echo "make build   build the jars and WARs without testing"
	@echo "make clean   remove build output and run/"
	@echo "make run-appengine             the App Engine flavour on its local runner (docs/appengine.md)"
	@echo "make deploy PROJECT_ID=...     deploy the three App Engine services, dispatch, cron and indexes"
	@echo "     [VERSION=v2] [PROMOTE=false]  name the version; deploy it without moving traffic to it"
	@echo "make deploy-dry-run PROJECT_ID=x   print the deploy commands without running them"
	@echo "make agent-image               the agent's Docker image (needs a Docker engine)"
	@echo "make bench                     the benchmarks (docs/benchmarks.md); BENCH_QUICK=1 for a short run"
	@echo "make bench-compare BEFORE=REF  two builds benchmarked in turns in one run (REF: a git ref or a jar folder)"
	@echo "make soak                      faults under load: agent killed, server restarted (docs/reliability.md); SOAK_MINUTES=10"

build:
	$(MVN) -q -DskipTests install

test:
	$(MVN) verify

run:
	$(MVN) -q -DskipTests -pl server,agent -am install
	PORT=$(PORT) bash scripts/run-local.sh

clean:
	$(MVN) -q clean
	rm -rf run

-include appengine.mk
-include bench/bench.mk
-include bench/soak.mk
-include agent/agent.mk
