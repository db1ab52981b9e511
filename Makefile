# The Makefile is the interface. Quick start (README):  make demo   |   make test
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV          := .venv
LS_VENV       := .venv-localstack
PY            := $(VENV)/bin/python
BUILD         := .build
LAMBDA_ARCH   := $(shell uname -m | sed 's/arm64/aarch64/')
PIP_QUIET     := --quiet --disable-pip-version-check
# pip prints one warning line per package for local index locations it cannot read; drop them.
PIP_FILTER    := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: help bootstrap chromium localstack-up localstack-down deploy demo test unit lint synth clean clean-state

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# ---- bootstrap: idempotent; each step re-runs only when its pins change -----------------

bootstrap: $(VENV)/.installed $(LS_VENV)/.installed $(BUILD)/lambda-runtime/.installed $(BUILD)/layer/.installed node_modules/.installed chromium ## install everything that is missing

$(VENV)/.installed: pyproject.toml requirements/dev.lock
	@python=$$(scripts/find-python.sh) && { [ -x $(PY) ] || { echo "Creating $(VENV) with $$python"; $$python -m venv $(VENV); }; }
	@echo "Installing the project's pinned dependencies into $(VENV)"
	@$(PY) -m pip install $(PIP_QUIET) -c requirements/dev.lock -e '.[dev]' $(PIP_FILTER)
	@touch $@

EXECUTOR_SRC  := $(wildcard tools/localstack_lambda_process/pyproject.toml tools/localstack_lambda_process/localstack_lambda_process/*.py)

$(LS_VENV)/.installed: requirements/localstack.lock $(EXECUTOR_SRC)
	@python=$$(scripts/find-python.sh) && { [ -x $(LS_VENV)/bin/python ] || { echo "Creating $(LS_VENV) with $$python"; $$python -m venv $(LS_VENV); }; }
	@echo "Installing LocalStack 4.14.0 and the process Lambda executor into $(LS_VENV)"
	@$(LS_VENV)/bin/python -m pip install $(PIP_QUIET) -r requirements/localstack.lock $(PIP_FILTER)
	@$(LS_VENV)/bin/python -m pip install $(PIP_QUIET) --no-deps --force-reinstall ./tools/localstack_lambda_process $(PIP_FILTER)
	@touch $@

# What the AWS Lambda Python runtime provides (boto3): the executor's stand-in for it.
$(BUILD)/lambda-runtime/.installed: requirements/lambda-runtime.txt | $(VENV)/.installed
	@rm -rf $(BUILD)/lambda-runtime && echo "Building the Lambda runtime's boto3 folder"
	@$(PY) -m pip install $(PIP_QUIET) --no-deps --no-compile --target $(BUILD)/lambda-runtime -r $< $(PIP_FILTER)
	@touch $@

# The dependencies layer, built on the host for the Lambda platform (no Docker bundling).
$(BUILD)/layer/.installed: requirements/lambda-layer.txt | $(VENV)/.installed
	@rm -rf $(BUILD)/layer && echo "Building the dependencies layer for python3.13 / $(LAMBDA_ARCH)"
	@$(PY) -m pip install $(PIP_QUIET) --no-deps --no-compile --target $(BUILD)/layer/python \
	  --platform manylinux2014_$(LAMBDA_ARCH) --implementation cp --python-version 3.13 --only-binary=:all: \
	  -r $< $(PIP_FILTER)
	@rm -rf $(BUILD)/layer/python/bin
	@touch $@

# The web console's browser tests drive Debian's Chromium through Playwright (no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then echo "Installing Debian's Chromium (browser tests)"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "error: the browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

node_modules/.installed: package.json package-lock.json
	@echo "Installing the CDK CLI and cdklocal (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# ---- LocalStack on the host ------------------------------------------------------------

localstack-up: $(LS_VENV)/.installed $(BUILD)/lambda-runtime/.installed ## start LocalStack on 127.0.0.1:4566 (reuses a running one)
	@scripts/localstack.sh up

localstack-down: ## stop the LocalStack this project started (by its recorded PID)
	@scripts/localstack.sh down

# ---- the stack ---------------------------------------------------------------------------

synth: bootstrap ## synthesize the CloudFormation template (cdk-nag runs here)
	@scripts/cdk.sh synth --quiet

deploy: bootstrap localstack-up ## deploy the stack to LocalStack
	@scripts/deploy.sh

demo: deploy ## the main job: audit a real bucket on LocalStack and print the result
	@$(PY) -m scripts.demo

# ---- tests and checks -----------------------------------------------------------------------

test: bootstrap lint ## every test (after the lint): unit, infrastructure, and the deployed stack on LocalStack
	@scripts/test.sh

unit: $(VENV)/.installed ## fast tests only (no LocalStack)
	@$(PY) -m pytest tests/unit tests/infra -q

lint: $(VENV)/.installed ## ruff lint + format check, mypy --strict on secagent/ and lambdas/
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

clean-state: localstack-down ## forget LocalStack's state and logs
	rm -rf .localstack

clean: clean-state ## remove everything the bootstrap built
	rm -rf $(VENV) $(LS_VENV) $(BUILD) node_modules cdk.out
