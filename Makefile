# The two commands: `make run` (Trellis on SQLite with the demo organization and dev sign-in) and
# `make test` (the whole suite). Both create .venv and install from the project's own files when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint system-deps bench clean

run: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/trellis serve --demo

test: $(PY_STAMP) $(NODE_STAMP) system-deps lint
	$(BIN)/pytest

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(PY_STAMP)
	$(BIN)/python bench/turn_throughput.py
	$(BIN)/python bench/goal_pages.py
	$(BIN)/python bench/nudge_send.py
	$(BIN)/python bench/review_plan.py
	$(BIN)/python bench/talent_pages.py
	$(BIN)/python bench/insights.py

system-deps:
	@bash scripts/system-deps.sh

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Trellis needs Python 3.11 or newer (found $$($(PYTHON) --version)); set PYTHON=python3.x"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .ruff_cache *.egg-info
