# The two commands: `make run` sets everything up and serves the portal; `make test` sets up and
# runs the lint and the whole test suite. Both are safe to repeat and fast the second time.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PASSWORD ?= demo-pass-2025
export DEMO_PASSWORD

PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test setup system-packages test-packages migrate demo lint format worker beat messages bench clean

run: setup migrate demo
	@echo ""
	@echo "  Portal:   http://$(HOST):$(PORT)/"
	@echo "  Demo accounts: enterprise, enterprise2, commerce, commerce2, finance, finance2,"
	@echo "                 registrar, auditor, sysadmin, policyadmin"
	@echo "  Password: $(DEMO_PASSWORD)"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup test-packages $(VENV)/.dev-installed lint
	$(PY) -m pytest $(PYTEST_ARGS)

setup: system-packages $(VENV)/.installed $(MO_FILES)

system-packages:
	@scripts/install-system-packages $(if $(BROWSER),--browser,)

test-packages:
	@scripts/install-system-packages --clamav $(if $(BROWSER),--browser,)

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

locale/%.mo: locale/%.po $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null

migrate: setup
	$(PY) manage.py migrate --noinput
	@if $(PY) manage.py help load_policy >/dev/null 2>&1; then $(PY) manage.py load_policy; fi

demo: migrate
	$(PY) manage.py seed_demo

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: $(VENV)/.installed
	$(PY) manage.py makemessages --locale zh_Hans --ignore=.venv --ignore=var --no-location --no-obsolete
	$(PY) manage.py makemessages --locale zh_Hans --domain djangojs --ignore=.venv --ignore=var --ignore=static/vendor --no-location --no-obsolete

worker: setup
	@test -n "$$REDIS_URL" || { echo "REDIS_URL must be set for a worker"; exit 1; }
	$(VENV)/bin/celery -A hengyang_cbec worker --loglevel=INFO

beat: setup
	@test -n "$$REDIS_URL" || { echo "REDIS_URL must be set for beat"; exit 1; }
	$(VENV)/bin/celery -A hengyang_cbec beat --loglevel=INFO --schedule=var/celerybeat-schedule

bench: setup $(VENV)/.dev-installed
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script; done

clean:
	rm -rf $(VENV) var staticfiles
