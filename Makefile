# formaflow — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm ci writes this file last: present and newer than the lock file means up to date.
ASSETS := node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium
CALC_MODULE := /usr/lib/libreoffice/program/libsclo.so

LOCK := requirements.lock
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run walkthrough test lint install lock runtime system bench clean

## Python dependencies: exactly the versions and files of requirements.lock (hashes checked,
## --require-hashes), then the project itself, built by the locked setuptools.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $@

## Regenerate requirements.lock from pyproject.toml (after adding or changing a dependency):
## pip-tools in a venv of its own, every file's hash, build dependencies (setuptools)
## included; the indexes stay pip's own configuration, never written into the lock.
LOCK_VENV := .venv-lock
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip-tools; }
	$(LOCK_VENV)/bin/pip-compile --quiet --extra test --generate-hashes \
		--allow-unsafe --strip-extras --build-deps-for wheel \
		--no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

## The DSFR served to the pages and axe-core for the browser tests, pinned by the lock file.
## --ignore-scripts: the DSFR's install script only checks for a project of its own kind.
$(ASSETS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(ASSETS)

## The system programs the tests use, installed from Debian's packages when missing (as
## root, or through sudo), silent when all are there. Each line: what the tests look up
## (shutil.which, or a fixed path) and the package that brings it.
##   initdb, pg_ctl, createdb  postgresql      tests/support/postgres.py (throw-away server,
##                                             run as the `postgres` system user when root)
##   /usr/bin/chromium         chromium        tests/support/browser.py (never a downloaded
##                                             browser)
##   npm                       npm             `make install`: the DSFR and axe-core
##   libreoffice / soffice     libreoffice-calc the exports open in LibreOffice
##   and its Calc module                       (--no-install-recommends: ~300 MB, not 1 GB;
##                                             soffice alone, left by libreoffice-common
##                                             after a removal, cannot open a sheet)
##   pdftotext, pdftoppm,      poppler-utils   PDFs read back as text, as images, and their
##   pdfinfo                                   page count
## and, for the product itself (`make run` too), what WeasyPrint loads to draw the official
## papers and the fonts they embed:
##   libpango-1.0.so.0, libpangoft2-1.0.so.0   libpango-1.0-0, libpangoft2-1.0-0
##   LiberationSans, DejaVuSans               fonts-liberation, fonts-dejavu-core
PG_BINDIRS := /usr/lib/postgresql/*/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
has = command -v $(1) >/dev/null 2>&1
haslib = ldconfig -p 2>/dev/null | grep -q '$(1)'
FONT_DIR := /usr/share/fonts/truetype
hasfont = ls $(FONT_DIR)/$(1) >/dev/null 2>&1
runtime:
	@missing=""; \
	{ $(call haslib,libpango-1.0.so.0) && $(call haslib,libpangoft2-1.0.so.0); } \
		|| missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	$(call hasfont,liberation*/LiberationSans-Regular.ttf) || missing="$$missing fonts-liberation"; \
	$(call hasfont,dejavu/DejaVuSans.ttf) || missing="$$missing fonts-dejavu-core"; \
	$(call has,npm) || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "Installation des paquets système manquants :$$missing"; \
		$(APT) update -qq && $(APT) install -y -qq $$missing || exit 1; \
	fi

system: runtime
	@missing=""; calc=""; \
	{ $(call has,initdb) || ls $(PG_BINDIRS)/initdb >/dev/null 2>&1; } \
		|| missing="$$missing postgresql"; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	{ $(call has,pdftotext) && $(call has,pdftoppm) && $(call has,pdfinfo); } \
		|| missing="$$missing poppler-utils"; \
	{ { $(call has,libreoffice) || $(call has,soffice); } && [ -e $(CALC_MODULE) ]; } \
		|| calc="libreoffice-calc"; \
	if [ -n "$$missing$$calc" ]; then \
		echo "Installation des paquets système manquants :$$missing $$calc"; \
		$(APT) update -qq && \
		{ [ -z "$$missing" ] || $(APT) install -y -qq $$missing; } && \
		{ [ -z "$$calc" ] || $(APT) install -y -qq --no-install-recommends $$calc; } \
		|| exit 1; \
	fi; \
	if [ "$$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then \
		echo "Création de l'utilisateur système postgres (serveur de test)"; \
		useradd --system --home /var/lib/postgresql --shell /bin/bash postgres; \
	fi

## Start the product on its embedded defaults (SQLite, demo data): http://127.0.0.1:8000
HOST ?= 127.0.0.1
PORT ?= 8000
run: runtime install
	$(BIN)/formaflow serve --host $(HOST) --port $(PORT)

## The printed tour of one dossier through its whole lifecycle (no server needed).
walkthrough: runtime install
	$(BIN)/formaflow walkthrough

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## On a fresh machine: the system programs, the locked dependencies, lint and type-check,
## then the whole suite on SQLite and on a throw-away PostgreSQL (the browser tests,
## tests/e2e, on SQLite only; the reads the pages add are tested without a browser in both
## passes). `system` first: `install` needs npm. Two lanes run at the same time (each its own
## temporary directories and logs, printed when both are done): on a two-core machine that
## halves the wall time, which CI bounds. Lane 1: lint, then the SQLite suite but the
## longest browser walks; lane 2: the PostgreSQL suite, then those walks (on SQLite), so the
## two lanes take about as long as each other (on a fresh clone with the every-page walk
## alone in lane 2, they took 19 and 15 min). The benchmarks' smoke tests make their own
## SQLite databases whatever the suite's: they run in lane 1 only.
TEST_LOGS := var/test-logs
PYTEST := $(BIN)/pytest -p no:cacheprovider --durations=15
WALKS := tests/e2e/test_every_page.py tests/e2e/test_lifecycle_pages.py \
	tests/e2e/test_plan_academie.py tests/e2e/test_paf_bulk_pages.py
BENCH_SMOKE := tests/integration/test_bench_smoke.py
test: system install
	@rm -rf $(TEST_LOGS); mkdir -p $(TEST_LOGS); \
	( $(MAKE) --no-print-directory lint > $(TEST_LOGS)/lint.log 2>&1; \
	  echo $$? > $(TEST_LOGS)/lint.status; \
	  env -u FORMAFLOW_TEST_DATABASE_URL $(PYTEST) $(WALKS:%=--ignore=%) \
	    --basetemp=$(TEST_LOGS)/tmp-sqlite > $(TEST_LOGS)/sqlite.log 2>&1; \
	  echo $$? > $(TEST_LOGS)/sqlite.status ) & \
	( $(BIN)/python -m tests.support.postgres -- $(PYTEST) --ignore=tests/e2e \
	    --ignore=$(BENCH_SMOKE) \
	    --basetemp=$(TEST_LOGS)/tmp-postgresql > $(TEST_LOGS)/postgresql.log 2>&1; \
	  echo $$? > $(TEST_LOGS)/postgresql.status; \
	  env -u FORMAFLOW_TEST_DATABASE_URL $(PYTEST) $(WALKS) \
	    --basetemp=$(TEST_LOGS)/tmp-pages > $(TEST_LOGS)/pages.log 2>&1; \
	  echo $$? > $(TEST_LOGS)/pages.status ) & \
	wait; status=0; \
	for pass in lint:"ruff + mypy" sqlite:"Suite sur SQLite" \
	    postgresql:"Suite sur PostgreSQL" pages:"Parcours longs dans le navigateur (SQLite)"; do \
	  name=$${pass%%:*}; echo "=== $${pass#*:} ==="; cat $(TEST_LOGS)/$$name.log; \
	  [ "$$(cat $(TEST_LOGS)/$$name.status)" = 0 ] || status=1; \
	done; \
	if [ $$status -eq 0 ]; then echo "make test : tout est vert (SQLite et PostgreSQL)."; \
	else echo "make test : ÉCHEC (voir ci-dessus)."; fi; \
	exit $$status

## Benchmarks (figures in the README), against SQLite and a throw-away PostgreSQL.
bench: install
	$(BIN)/python -m bench.transitions
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.notifications
	$(BIN)/python -m bench.paf_bulk
	$(BIN)/python -m bench.stagiaires_import

clean:
	rm -rf $(VENV) $(LOCK_VENV) formaflow.db formaflow.db-* var .mypy_cache .ruff_cache .pytest_cache .hypothesis
