# `make soak`: the fault and load soak (bench/soak.sh, bench/soak/; results in docs/reliability.md).
# Not part of `make test`. SOAK_MINUTES (default 10), SOAK_CLIENTS (64), SOAK_SEED, SOAK_JVM_FLAGS.
.PHONY: soak

soak:
	$(MVN) -q -DskipTests -pl server,agent -am install
	bash bench/soak.sh
