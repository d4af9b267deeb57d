# `make run` serves the app with demo data on the embedded defaults (SQLite, in-memory
# channel layer, eager Celery). `make test` runs every check and the whole suite against the
# local PostgreSQL and Redis, starting them first when they are down.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 found: on PATH, then in pyenv's versions.
PYTHON ?= $(shell for c in python3.13 python3.12 python3 \
	$${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3 \
	$${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3; do \
	"$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& { command -v "$$c"; break; }; done)

HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/inventory
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?=

.PHONY: help install install-dev run test lint checks services browser ops-tools messages requirements clean bench

help:
	@echo "make run    set up and serve the app with demo data on http://$(HOST):$(PORT)"
	@echo "make test   set up and run lint, checks and the whole test suite"
	@echo "make messages  collect the strings to translate into inventory_project/locale/ and compile them"
	@echo "make bench  measure the app against its database limit (QUICK=1: 3 s a run); prints one table"

# What running needs; the test and lint tools come with `make test` only.
$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py sync_branch_permissions
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_transfers
	$(PY) manage.py seed_demo_purchasing
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py runserver $(HOST):$(PORT)

# ruff, then the layers' import contracts (pyproject.toml, [tool.importlinter]).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

checks: install-dev
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "Starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -1) main start; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
		echo "Starting Redis"; \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
			--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; }
	@for i in $$(seq 1 30); do \
		pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 \
		&& exit 0; sleep 1; done; echo "PostgreSQL or Redis did not come up." >&2; exit 1

# The browser tests drive Debian's Chromium through Playwright (whose own browser downloads
# are not used): installed here when missing, which takes root.
CHROMIUM_PACKAGES := chromium fonts-dejavu-core
browser:
	@test -x /usr/bin/chromium && test -d /usr/share/fonts/truetype/dejavu || { \
		if [ "$$(id -u)" != 0 ]; then \
			echo "The browser tests need Debian's Chromium. As root, run:" >&2; \
			echo "  apt-get update && apt-get install -y --no-install-recommends $(CHROMIUM_PACKAGES)" >&2; \
			echo "(or sudo make browser), then make test again." >&2; \
			exit 1; \
		fi; \
		echo "Installing $(CHROMIUM_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(CHROMIUM_PACKAGES); }

# The deployment files' checks (inventory_project/tests/test_deploy_files.py) run Debian's
# nginx (`nginx -t` on deploy/nginx.conf) and promtool from Debian's prometheus package (the
# scrape config and alert rules): installed here when missing, which takes root. Only the
# binaries are used; no nginx or Prometheus service is started.
OPS_PACKAGES := nginx prometheus
ops-tools:
	@test -x /usr/sbin/nginx && test -x /usr/bin/promtool || { \
		if [ "$$(id -u)" != 0 ]; then \
			echo "The deployment checks need Debian's nginx and promtool. As root, run:" >&2; \
			echo "  apt-get update && apt-get install -y --no-install-recommends $(OPS_PACKAGES)" >&2; \
			echo "(or sudo make ops-tools), then make test again." >&2; \
			exit 1; \
		fi; \
		echo "Installing $(OPS_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(OPS_PACKAGES); }

test: lint checks services browser ops-tools
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(VENV)/bin/pytest -n auto --dist loadgroup --create-db $(PYTEST_ARGS)
	# The read-replica router, against a second database standing in for the replica (the
	# rest of the suite runs without one: its views would read a database it did not declare).
	DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_REPLICA_URL=$(TEST_DATABASE_URL)_replica \
		REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest -q -p no:randomly --create-db \
		inventory_project/kernel/tests/test_db_router.py

# Collect every marked string into inventory_project/locale/<language>/LC_MESSAGES/django.po (new ones empty,
# changed ones fuzzy), then compile the .mo files Django reads; both are committed. Add a
# language to settings.LANGUAGES and to MESSAGE_LANGUAGES.
MESSAGE_LANGUAGES ?= de
messages: install
	$(PY) manage.py makemessages $(addprefix -l ,$(MESSAGE_LANGUAGES)) --no-obsolete \
		--add-location=file --ignore=.venv --ignore=staticfiles --ignore=deploy
	$(PY) manage.py compilemessages --ignore=.venv

requirements: install-dev
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.txt requirements.in
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-shm db.sqlite3-wal

# Load figures, not a test: deploy/bench/run.py (its docstring lists the BENCH_* settings).
# wrk and pgbench come from Debian, installed here when missing, which takes root.
BENCH_PACKAGES := wrk postgresql-client
bench: install-dev services
	@command -v wrk >/dev/null && command -v pgbench >/dev/null || { \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make bench needs wrk and pgbench. As root, run:" >&2; \
			echo "  apt-get update && apt-get install -y --no-install-recommends $(BENCH_PACKAGES)" >&2; \
			exit 1; \
		fi; \
		echo "Installing $(BENCH_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(BENCH_PACKAGES); }
	$(PY) deploy/bench/run.py
