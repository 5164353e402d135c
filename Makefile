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

.PHONY: install install-dev demo test lint typecheck bench clean

# Idempotent: re-running only reinstalls when pyproject.toml changed.
install: $(VENV)/.installed

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

test: install-dev
	$(VENV)/bin/ruff check src tests
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

bench: install-dev
	$(PCN) bench synth
	$(PY) benchmarks/triage_latency.py

clean:
	rm -rf $(VENV) var build dist .pytest_cache .mypy_cache .ruff_cache
