# cyme: the Cyme branch API (openapi.yaml), its reference branch (server-stub/)
# and its SDKs (python-client/, ruby-client/). `make help` lists the targets.
#
# Everything a target needs is installed on first use: Debian packages (only
# when their command is missing; needs root, or sudo), the virtual environment
# .venv with server-stub and python-client and their test and lint extras,
# axe-core for the browser tests and Prism for `make bench`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.NOTPARALLEL:

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
DIR ?= instances/
SUPERVISOR ?= simulated
CLUSTER ?=
BENCH_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-server-stub
comma := ,
empty :=
space := $(empty) $(empty)
# The branch's extras `make serve` installs: Celery for real workers, kombu for a cluster.
BRANCH_EXTRAS := $(strip $(if $(filter celery,$(SUPERVISOR)),celery) $(if $(CLUSTER),cluster))
BRANCH_ONLY := $(VENV)/.installed-branch$(if $(BRANCH_EXTRAS),-$(subst $(space),-,$(BRANCH_EXTRAS)))
INSTALLED_PY := $(VENV)/.installed-python-client
PRISM := bench/node_modules/.bin/prism
# What the browser tests inject into /ui (axe-core), from npm, for tests only.
AXE := server-stub/tests/browser/node_modules/axe-core/axe.min.js

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_UPDATED := /tmp/.cyme-apt-updated

# Debian packages as command:package, installed only when the command is missing.
APT_TEST := curl:curl openssl:openssl chromium:chromium chromedriver:chromium-driver redis-server:redis-server rabbitmq-server:rabbitmq-server
APT_BENCH := curl:curl wrk:wrk node:nodejs npm:npm
APT_RUBY := ruby:ruby rubocop:rubocop rake:rake

# $(call apt-install,PACKAGES): apt-get install, with one `apt-get update` first
# (repeated only when the last one made here is more than an hour old).
define apt-install
if [ -z "$$(find $(APT_UPDATED) -mmin -60 2>/dev/null)" ]; then \
  $(SUDO) apt-get update && touch $(APT_UPDATED); \
fi; \
echo "Installing Debian packages:" $(1); \
$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(1)
endef

# $(call apt-need,command:package ...): install the packages whose command is missing.
define apt-need
missing=""; \
for need in $(1); do \
  command -v "$${need%%:*}" >/dev/null 2>&1 || missing="$$missing $${need#*:}"; \
done; \
if [ -n "$$missing" ]; then $(call apt-install,$$missing); fi
endef

# Each suite runs against live branches it starts itself; test-contract runs
# the scenarios of tests/contract through both SDKs.
TEST_SUITES := test-spec test-server check-generated test-python test-ruby test-contract
CONTRACT_RESULTS := build/contract

.PHONY: help
help: ## Show this help
	@echo "Usage: make TARGET [HOST=$(HOST)] [PORT=$(PORT)] [DIR=$(DIR)] [SUPERVISOR=$(SUPERVISOR)] [CLUSTER=BROKER_URL] [BENCH_ARGS=...]"
	@echo
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-21s %s\n", $$1, $$2}'

$(BIN)/python:
	@if ! command -v $(PYTHON) >/dev/null 2>&1 || ! $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null; then \
		$(call apt-install,python3 python3-venv); \
	fi
	$(PYTHON) -m venv $(VENV)

# What `make serve` needs: the branch alone (with Celery for SUPERVISOR=celery).
$(BRANCH_ONLY): server-stub/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e './server-stub$(if $(BRANCH_EXTRAS),[$(subst $(space),$(comma),$(BRANCH_EXTRAS))])'
	touch $@

$(INSTALLED): server-stub/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e './server-stub[celery,cluster,test,lint]'
	touch $@ $(VENV)/.installed-branch $(VENV)/.installed-branch-celery \
		$(VENV)/.installed-branch-cluster $(VENV)/.installed-branch-celery-cluster

$(INSTALLED_PY): python-client/pyproject.toml $(INSTALLED)
	$(BIN)/pip install -e './python-client[test,lint,generate,aiohttp]'
	touch $@

.PHONY: install
install: $(INSTALLED) $(INSTALLED_PY) ## Install what is missing: Debian packages (curl, chromium and its driver, redis-server, ruby and its test gems), .venv with server-stub (and Celery) and python-client
	@$(call apt-need,$(APT_TEST))
	@$(call apt-need,$(APT_RUBY))
	@ruby -e 'require "minitest"; require "webmock"' 2>/dev/null || { $(call apt-install,ruby-minitest ruby-webmock); }

.PHONY: serve
serve: $(BRANCH_ONLY) ## Start a branch on HOST:PORT (127.0.0.1:8000) with its state in DIR (instances/); SUPERVISOR=celery for real workers; CLUSTER=BROKER_URL to join the cluster on that broker (installs only what the branch needs)
	mkdir -p $(DIR)
	@echo "cyme-branch $(HOST):$(PORT) -D $(DIR) --supervisor $(SUPERVISOR)$(if $(CLUSTER), (joining the cluster on \$$CYME_CLUSTER_URL))"
	@CYME_CLUSTER_URL='$(CLUSTER)' exec $(BIN)/cyme-branch $(HOST):$(PORT) -D $(DIR) --supervisor $(SUPERVISOR)

.PHONY: lint
lint: install ## ruff check, ruff format --check, mypy --strict and the SDK's import layers (Python); rubocop and rbs validate (Ruby)
	$(BIN)/ruff check server-stub bench
	$(BIN)/ruff format --check server-stub bench
	cd server-stub && ../$(BIN)/mypy --strict src
	cd ruby-client && rake lint typecheck
	$(BIN)/ruff check --config server-stub/pyproject.toml tools examples
	$(BIN)/ruff format --check --config server-stub/pyproject.toml tools examples
	$(BIN)/mypy --strict --python-version 3.10 tools/check_generated.py tools/coverage_matrix.py \
		tools/generate_routes.py tools/generate_models.py tools/generate_sync.py
	cd python-client && ../$(BIN)/ruff check src tests && ../$(BIN)/ruff format --check src tests
	cd python-client && ../$(BIN)/mypy --strict src tests
	cd python-client && ../$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/ruff check tests && $(BIN)/ruff format --check tests
	cd tests && ../$(BIN)/mypy contract
	rubocop tests/contract

.PHONY: test
test: lint $(TEST_SUITES) ## Lint, then validate openapi.yaml and run every test suite

.PHONY: test-spec
test-spec: install ## Validate openapi.yaml
	$(BIN)/openapi-spec-validator openapi.yaml

$(AXE): server-stub/tests/browser/package.json server-stub/tests/browser/package-lock.json
	@$(call apt-need,node:nodejs npm:npm)
	cd server-stub/tests/browser && npm ci --no-audit --no-fund
	touch $@

.PHONY: test-server
test-server: install $(AXE) ## Run the branch's tests (server-stub/tests), the admin page's in Chromium with axe-core
	cd server-stub && ../$(BIN)/pytest

.PHONY: screenshots
screenshots: install ## Write docs/ui.png: the admin page of a branch with a few instances, in headless Chromium
	$(BIN)/python server-stub/tests/screenshots.py docs/ui.png

.PHONY: test-python
test-python: install ## Run the Python SDK's tests (python-client/tests) against a live branch
	cd python-client && ../$(BIN)/pytest

.PHONY: generate
generate: install ## Regenerate both SDKs' models and route tables from openapi.yaml, and the Python SDK's sync resources from its async ones
	$(BIN)/python tools/generate_models.py
	$(BIN)/python tools/generate_sync.py
	$(BIN)/python tools/generate_routes.py

.PHONY: check-generated
check-generated: install ## Regenerate both SDKs' generated files in a temporary directory; fail, naming each stale file, on any difference
	$(BIN)/python tools/check_generated.py

generate: generate-ruby

.PHONY: generate-ruby
generate-ruby: ## Regenerate ruby-client's models (lib/cyme/models/generated.rb, sig/) from openapi.yaml
	ruby-client/bin/generate-models

.PHONY: test-ruby
test-ruby: install ## Run the Ruby SDK's tests (ruby-client/test) against live branches, and check its gem installs
	cd ruby-client && rake test package

# Both runners run even when one fails, so that the verdict can name the
# scenarios that pass in one language and fail in the other.
.PHONY: test-contract
test-contract: install ## Run tests/contract's scenarios through both SDKs on fresh branches, compare the verdicts, check docs/coverage.md
	rm -rf $(CONTRACT_RESULTS)
	@failed=0; \
	CYME_CONTRACT_RESULTS=$(CONTRACT_RESULTS) $(BIN)/pytest tests/contract || failed=1; \
	CYME_CONTRACT_RESULTS=$(CONTRACT_RESULTS) ruby -w -I ruby-client/lib \
		-e 'ARGV.each { |test| require File.expand_path(test) }' tests/contract/*_test.rb || failed=1; \
	$(BIN)/python tests/contract/verdict.py $(CONTRACT_RESULTS) || failed=1; \
	$(BIN)/python tools/coverage_matrix.py --check || failed=1; \
	exit $$failed

.PHONY: coverage-matrix
coverage-matrix: install ## Write docs/coverage.md: every operationId against the branch, both SDKs and the scenarios
	$(BIN)/python tools/coverage_matrix.py

$(PRISM): bench/package.json bench/package-lock.json
	@$(call apt-need,$(APT_BENCH))
	cd bench && npm ci --no-audit --no-fund
	touch $@

.PHONY: bench
bench: install $(PRISM) ## Benchmark the branch against bare aiohttp and Prism's mock server, the Python and Ruby SDKs against raw httpx and Net::HTTP (one call and under concurrency, the async client against raw aiohttp too), real workers against Celery by hand, what the workers are doing (a kill -9 seen, a /metrics scrape), tasks through the branch against Celery's own, twenty branches in one cluster on one Redis, and the admin page (a kill -9 seen on it, its first load against /docs) (see docs/benchmarks.md)
	@$(call apt-need,$(APT_BENCH))
	$(BIN)/python bench/server_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/python_sdk_bench.py
	$(BIN)/python bench/concurrency_bench.py
	@$(call apt-need,$(APT_RUBY))
	ruby bench/ruby_sdk_bench.rb
	$(BIN)/python bench/celery_bench.py
	$(BIN)/python bench/workers_bench.py
	$(BIN)/python bench/tasks_bench.py
	$(BIN)/python bench/cluster_bench.py
	$(BIN)/python bench/ui_bench.py

.PHONY: clean
clean: ## Remove .venv, bench/node_modules and caches (keeps the state in instances/)
	rm -rf $(VENV) bench/node_modules server-stub/tests/browser/node_modules $(CONTRACT_RESULTS)
	find . -type d \( -name __pycache__ -o -name .mypy_cache -o -name .ruff_cache \
		-o -name .pytest_cache -o -name .hypothesis -o -name .schemathesis -o -name '*.egg-info' \) \
		-prune -exec rm -rf {} +
