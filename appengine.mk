# The App Engine flavour (docs/appengine.md). Included from the Makefile.
#   make deploy PROJECT_ID=my-project          build the three services and deploy them with
#                                              dispatch.yaml, cron.yaml and index.yaml
#        [VERSION=v2] [PROMOTE=false]          name the version; deploy it without sending it traffic
#   make deploy-dry-run PROJECT_ID=my-project  print exactly those commands, run nothing
#   make run-appengine                         the App Engine flavour on this machine (stubs),
#                                              with a demo backend and our agent; INSTANCES=3 runs three
#                                              instances of each service
MVN ?= mvn -B
PORT ?= 8080
INSTANCES ?= 1
GCLOUD ?= gcloud

APPENGINE_SERVICES := proxy-service agent-service admin-api-service
# gcloud deploys a Java service with bundled APIs from its exploded WAR's appengine-web.xml.
APPENGINE_DEPLOYABLES := $(foreach s,$(APPENGINE_SERVICES),$(s)/target/$(s)/WEB-INF/appengine-web.xml) \
  dispatch.yaml cron.yaml index.yaml
APPENGINE_BUILD := $(MVN) -q -DskipTests -pl proxy-service,agent-service,admin-api-service -am package
# VERSION names the new version (gcloud picks a timestamp without it); PROMOTE=false deploys it without
# moving traffic to it, to try it at https://VERSION-dot-PROJECT_ID.appspot.com first.
VERSION ?=
PROMOTE ?= true
APPENGINE_DEPLOY := $(GCLOUD) app deploy --project=$(PROJECT_ID) --quiet$(if $(VERSION), --version=$(VERSION))$(if \
  $(filter false,$(PROMOTE)), --no-promote) $(strip $(APPENGINE_DEPLOYABLES))

# Checked when a target's recipe is expanded, so that a mistake is one error line and nothing runs.
appengine_need_project = $(if $(PROJECT_ID),$(if $(shell printf '%s' '$(PROJECT_ID)' | grep -Eq '^[A-Za-z0-9.:_-]+$$' && echo ok),,\
  $(error PROJECT_ID "$(PROJECT_ID)" is not a Google Cloud project id)),\
  $(error PROJECT_ID is not set: run make $@ PROJECT_ID=your-gcp-project))
appengine_check_version = $(if $(VERSION),$(if $(shell printf '%s' '$(VERSION)' | grep -Eq '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$$' && echo ok),,\
  $(error VERSION "$(VERSION)" is not an App Engine version id: lowercase letters, digits and inner hyphens, at most 63)))
appengine_check_promote = $(if $(filter true false,$(PROMOTE)),,$(error PROMOTE "$(PROMOTE)" is neither true nor false))
appengine_need_gcloud = $(if $(shell command -v $(firstword $(GCLOUD)) 2>/dev/null),,\
  $(error $(firstword $(GCLOUD)) not found: install the Google Cloud CLI and its app-engine-java component, or set GCLOUD=))

.PHONY: deploy deploy-dry-run run-appengine

deploy:
	$(appengine_need_project)$(appengine_check_version)$(appengine_check_promote)$(appengine_need_gcloud)
	$(APPENGINE_BUILD)
	$(APPENGINE_DEPLOY)

# The commands, then (as comments) each service's runtime as its appengine-web.xml declares it.
deploy-dry-run:
	$(appengine_need_project)$(appengine_check_version)$(appengine_check_promote)
	@echo '$(APPENGINE_BUILD)'
	@echo '$(APPENGINE_DEPLOY)'
	@for s in $(APPENGINE_SERVICES); do printf '# %s: runtime %s\n' "$$s" \
	  "$$(sed -n 's:.*<runtime>\(.*\)</runtime>.*:\1:p' $$s/src/main/webapp/WEB-INF/appengine-web.xml)"; done

run-appengine:
	$(MVN) -q -DskipTests -pl appengine-runner,agent,server -am install
	PORT=$(PORT) INSTANCES=$(INSTANCES) bash appengine-runner/run-appengine.sh
