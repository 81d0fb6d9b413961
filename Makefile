# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash

# Patient data never leaves the machine: no Rasa telemetry or crash reports, ever.
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/current.tar.gz
TRAINING_DATA := config.yml domain.yml $(wildcard data/*.yml)

WEBCHAT := web/static/vendor/rasa-webchat-1.0.1.js
AXE := tests/vendor/axe-4.10.2.min.js

.PHONY: run run-cluster test check-trials venv train

## run: set up what is missing (venv, model), check the trials, start the assistant
run: check-trials $(MODEL) $(WEBCHAT)
	scripts/run-assistant

## run-cluster: the scaled-out profile on this machine: PostgreSQL, Redis, N Rasa and M action
## servers, nginx in front with TLS (README.md, "Several servers"); make run stays one machine
run-cluster: check-trials $(MODEL) $(WEBCHAT)
	scripts/run-cluster

## test: every test: trial checks, pytest, Rasa data validation, conversation stories
test: check-trials $(MODEL) $(WEBCHAT) $(AXE)
	scripts/install-system-packages
	$(PY) -m pytest
	$(RASA) data validate --fail-on-warnings --quiet
	scripts/test-stories

## check-trials: load and check every file in trials/, naming file, criterion and field on error
check-trials: venv
	$(PY) -m prescreen.screening.check

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || "$$(scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

train: $(MODEL)

# The chat widget for the patient page: one file from npm, checked against a pinned hash.
$(WEBCHAT):
	scripts/fetch-webchat

# Accessibility checks for the browser tests: axe-core from npm, checked against a pinned hash.
$(AXE):
	scripts/fetch-axe

# Retrained only when the NLU data, rules or config change. Trials are not training data.
$(MODEL): $(VENV)/.installed $(TRAINING_DATA)
	$(RASA) train --fixed-model-name current --out models --quiet
	@touch $@
