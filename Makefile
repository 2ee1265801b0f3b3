# formaflow — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm ci writes this file last: present and newer than the lock file means up to date.
ASSETS := node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium

.PHONY: run walkthrough test lint install bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

## The DSFR served to the pages and axe-core for the browser tests, pinned by the lock file.
## --ignore-scripts: the DSFR's install script only checks for a project of its own kind.
$(ASSETS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(ASSETS)

## The browser of the end-to-end tests: Debian's Chromium (never a downloaded build).
$(CHROMIUM):
	@echo "Installation de Chromium (paquet Debian) pour les tests dans le navigateur…"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

## Start the product on its embedded defaults (SQLite, demo data): http://127.0.0.1:8000
HOST ?= 127.0.0.1
PORT ?= 8000
run: install
	$(BIN)/formaflow serve --host $(HOST) --port $(PORT)

## The printed tour of one dossier through its whole lifecycle (no server needed).
walkthrough: install
	$(BIN)/formaflow walkthrough

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Lint, type-check, then the whole suite on SQLite and on a throw-away PostgreSQL (the
## browser tests, tests/e2e, in the SQLite pass only; the reads the pages add are tested
## without a browser in both passes).
test: install $(CHROMIUM)
	@status=0; \
	echo "=== ruff + mypy ==="; $(MAKE) --no-print-directory lint || status=1; \
	echo "=== Suite sur SQLite ==="; \
	env -u FORMAFLOW_TEST_DATABASE_URL $(BIN)/pytest --durations=15 || status=1; \
	echo "=== Suite sur PostgreSQL ==="; \
	$(BIN)/python -m tests.support.postgres -- $(BIN)/pytest --ignore=tests/e2e --durations=15 || status=1; \
	if [ $$status -eq 0 ]; then echo "make test : tout est vert (SQLite et PostgreSQL)."; \
	else echo "make test : ÉCHEC (voir ci-dessus)."; fi; \
	exit $$status

## Benchmarks (figures in the README), against SQLite and a throw-away PostgreSQL.
bench: install
	$(BIN)/python -m bench.transitions
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.notifications
	$(BIN)/python -m bench.stagiaires_import

clean:
	rm -rf $(VENV) formaflow.db formaflow.db-* var .mypy_cache .ruff_cache .pytest_cache .hypothesis
