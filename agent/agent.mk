# The agent's Docker image (included by the root Makefile). Needs a Docker engine.
AGENT_IMAGE ?= inverting-proxy-agent

.PHONY: agent-image

agent-image:
	$(MVN) -q -DskipTests -pl agent -am install
	docker build -t $(AGENT_IMAGE) agent/
