# pcn — the two commands a new machine needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PCN := $(VENV)/bin/pcn
DEMO_DIR ?= var/twin
DEMO_PCN ?= U55830
DEMO_SEED ?= 1
DEMO_PORT ?= 8000

.PHONY: install install-dev demo test lint typecheck bench clean

# Idempotent: re-running only reinstalls when pyproject.toml changed.
install: $(VENV)/.installed node_modules/.installed

# Front-end assets served by `pcn serve` (NHS.UK frontend, HTMX, Vega) and axe-core for tests.
node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	@touch $@

install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PIP) install -e '.[dev,spark]'
	@touch $@

demo: install
	$(PCN) synth --pcn $(DEMO_PCN) --seed $(DEMO_SEED) --out $(DEMO_DIR)
	$(PCN) record check $(DEMO_DIR)
	$(PCN) demo summary --record $(DEMO_DIR)
	$(PCN) run --record $(DEMO_DIR)
	$(PCN) indicators series --record $(DEMO_DIR)
	$(PCN) db upgrade
	$(PCN) users demo --pcn $(DEMO_PCN)
	@test -s var/secret_key || $(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > var/secret_key
	PCN_SECRET_KEY=$$(cat var/secret_key) $(PCN) serve --record $(DEMO_DIR) --port $(DEMO_PORT)

# Browser tests (marker `browser`) apt-get install Debian's chromium when it is missing (root/CI).
test: install-dev node_modules/.installed
	$(VENV)/bin/ruff check src tests
	bash scripts/ensure_postgres.sh
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

bench: install-dev
	$(PCN) bench synth
	$(PY) benchmarks/web_latency.py
	$(PY) benchmarks/triage_latency.py

clean:
	rm -rf $(VENV) var build dist .pytest_cache .mypy_cache .ruff_cache node_modules test-artifacts
