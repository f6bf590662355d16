# The two set-up commands are `make run` and `make test`; both create .venv on their own.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_STUDY := $(VENV)/.installed-study
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test test-unit test-integration test-e2e lint typecheck openapi cfn-lint bench campaigns eval sam-validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make run` installs what serving and the default builds need; the studies' torch and matplotlib (the
# `study` extra) come with `make eval`, `make bench` and `make test`. The install time is kept for `make bench`.
# MovieLens-100k (recommendations) ships inside the recbole wheel; --no-deps keeps its own requirements
# (torch among them, unpinned) out: only its dataset_example/ files are read.
RECBOLE := recbole==1.2.1

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	@start=$$(date +%s); $(BIN)/pip install --quiet -e '.[runtime,train]' && \
		$(BIN)/pip install --quiet --no-deps $(RECBOLE) && \
		mkdir -p .commerce-ai && echo $$(( $$(date +%s) - start )) > .commerce-ai/install-seconds
	touch $@

$(STAMP_STUDY): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[runtime,train,study]'
	$(BIN)/pip install --quiet --no-deps $(RECBOLE)
	touch $@ $(STAMP_RUN)

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[runtime,train,study,dev]'
	$(BIN)/pip install --quiet --no-deps $(RECBOLE)
	touch $@ $(STAMP_STUDY) $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/commerce-ai up $(if $(ONLY),--only $(ONLY))

test: $(STAMP_DEV) cfn-lint lint typecheck
	$(BIN)/pytest -q

test-unit: $(STAMP_DEV)
	$(BIN)/pytest -q tests/unit

test-integration: $(STAMP_DEV)
	$(BIN)/pytest -q tests/integration

test-e2e: $(STAMP_DEV)
	$(BIN)/pytest -q tests/e2e

cfn-lint: $(STAMP_DEV)
	$(BIN)/cfn-lint template.yaml

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

openapi: $(STAMP_DEV)
	$(BIN)/python -m infra.openapi

typecheck: $(STAMP_DEV)
	$(BIN)/mypy layers/core/commerce_ai infra model_build functions

bench: $(STAMP_DEV)
	$(BIN)/python -m tests.benchmarks

# Fault, crash, load and hostile-input campaigns against one `commerce-ai up`: writes reports/reliability.md
# (tests/campaigns/; CAMPAIGNS="--events 2000" for a shorter run). Not part of `make test`.
campaigns: $(STAMP_DEV)
	$(BIN)/python -m tests.campaigns $(CAMPAIGNS)

eval: $(STAMP_STUDY)
	$(BIN)/commerce-ai eval

# `sam validate --lint` and `sam build` need the SAM CLI, whose pins clash with the project's, so it gets
# a venv of its own. `sam build` wants the functions' runtime (python3.12) on PATH, as for any SAM project;
# pyenv's is used when the shell does not have one. Layers build with pip --platform, so any Python works.
PY312 := $(shell command -v python3.12 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | tail -1)
sam-validate:
	test -x .venv-sam/bin/sam || ($(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install --quiet 'aws-sam-cli>=1.120,<2')
	SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam validate --lint --region us-east-1
	@test -n "$(PY312)" || (echo "sam build needs python3.12 on PATH (the Lambda runtime)"; exit 1)
	# Image functions (RiskChallengerFunction, RecommendationsRetrainFunction) build with Docker; without a
	# running engine they are left out.
	PATH="$(dir $(PY312)):$$PATH" SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam build --region us-east-1 \
		$$(docker info >/dev/null 2>&1 || echo --exclude RiskChallengerFunction --exclude RecommendationsRetrainFunction)

clean:
	rm -rf $(VENV) .venv-sam build .aws-sam .pytest_cache .mypy_cache .ruff_cache
