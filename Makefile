# Roster: the two commands.
#   make run   create .venv, install, migrate, seed a demo clinic on first run, serve on 127.0.0.1:$PORT (default 5000)
#   make serve install, migrate, then serve through gunicorn (gunicorn.conf.py) on 127.0.0.1:8000
#   make test  install what the tests need, then the whole suite on SQLite and on a throwaway PostgreSQL
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app

.PHONY: run serve test bench load chromium postgresql
SIZE ?= small

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	$(BIN)/flask db upgrade
	$(BIN)/flask roster seed-demo --if-empty
	@echo "Roster is on http://127.0.0.1:$(PORT) (Ctrl-C stops it)."
	ROSTER_INSECURE_COOKIES=1 $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Production-style serving: gunicorn with gunicorn.conf.py (ROSTER_BIND, ROSTER_WORKERS, ROSTER_TRUSTED_PROXIES...).
serve: $(VENV)/.runtime-installed
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py

# Debian's Chromium drives the browser tests (Playwright's own browser download does not work here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x /usr/bin/chromium || { echo "Chromium is missing: the browser tests cannot run." >&2; exit 1; }

# PostgreSQL 15 server binaries for the throwaway test cluster.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "Installing PostgreSQL 15..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.dev-installed chromium postgresql node_modules/.installed
	scripts/run-tests.sh

# Speed is measured here, not in timed tests: Roster against floors on SQLite and a throwaway
# PostgreSQL, one JSON line per measurement into bench/results.json.
#   make bench              a tenth of a year (--scale 0.1)
#   make bench SIZE=year    the full year (52 weeks x 250 classes); SIZE=all for both
bench: $(VENV)/.dev-installed postgresql
	SIZE=$(SIZE) scripts/bench.sh

# Two gunicorn servers sharing one throwaway PostgreSQL, 16 desks, one export of the year meanwhile.
load: $(VENV)/.dev-installed postgresql
	SIZE=$(SIZE) scripts/load.sh
