# Trygga hus — the two commands a newcomer needs are `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install install-test init demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the app (editable) with its pinned dependencies; re-runs when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed

init: install
	$(BIN)/tryggahus init

# The demo certificates' signs point to where `make run` serves them, unless TRYGGAHUS_PUBLIC_BASE_URL says otherwise.
demo: init
	TRYGGAHUS_PUBLIC_BASE_URL="$${TRYGGAHUS_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/tryggahus demo

## Serve the app on the embedded default (SQLite in instance/) with demo data.
run: demo
	$(BIN)/tryggahus serve --host $(HOST) --port $(PORT)

## Lint, then the whole suite (on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set).
test: install-test lint
	$(BIN)/python -m pytest

## Ruff, then mypy over the application package (its settings are in pyproject.toml).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info

## Throughput and latency of autosave and a section page against a trivial endpoint, under gunicorn on loopback;
## then the certificate and report PDFs against a minimal WeasyPrint document, in-process; then (PostgreSQL only)
## the manager's pages, autosave and the section page with a portfolio of 10,000 buildings; 1,000 signs on the job
## queue; an offline tablet's outbox (100 answers, 20 photos) synced in Chromium.
bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/portfolio.py
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/est.py
