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
# The address printed in each approval notice's QR code follows the address `make run` serves on
# (`make run PORT=8811` prints http://127.0.0.1:8811/verify/...), unless set explicitly.
NOTICE_PUBLIC_URL ?= http://$(HOST):$(PORT)
export NOTICE_PUBLIC_URL

PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test setup system-packages test-packages migrate demo lint format worker beat messages bench load faults clean mail otp

run: setup migrate demo
	@echo ""
	@echo "  Portal:   http://$(HOST):$(PORT)/"
	@echo "  Demo accounts: enterprise, enterprise2, enterprise3, disputer, commerce, commerce2,"
	@echo "                 finance, finance2, registrar, auditor, supervisor, sysadmin, security,"
	@echo "                 security2, auditadmin, policyadmin"
	@echo "  Password: $(DEMO_PASSWORD)"
	@echo "  Staff also give a code: 'make otp' prints each demo account's current one."
	@echo "  E-mail is written to var/mail/: 'make mail' shows the newest (TO=address to filter)."
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

# The benchmark harness (benchmarks/bench.py) on PostgreSQL and Redis of its own: DATABASE_URL and
# REDIS_URL must be set; BENCH_ARGS passes options (--sizes, --rounds, --notices, --only).
bench: setup $(VENV)/.dev-installed
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "DATABASE_URL and REDIS_URL must be set for make bench"; exit 1; }
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# The load test against a running portal (LOAD_HOST), with the portal's environment (it prepares
# accounts in the portal's database and checks afterwards that nothing acknowledged was lost).
LOAD_VENV := .venv-load
LOAD_DIR := var/load
LOAD_HOST ?= http://127.0.0.1:8000
LOAD_APPLICANTS ?= 50
LOAD_REVIEWERS ?= 7
LOAD_FINANCE ?= 3
LOAD_SECONDS ?= 180
export LOAD_APPLICANTS LOAD_REVIEWERS LOAD_FINANCE

$(LOAD_VENV)/.installed: benchmarks/load/requirements.txt
	@test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install --quiet --disable-pip-version-check -r benchmarks/load/requirements.txt
	@touch $@

load: setup $(LOAD_VENV)/.installed
	@mkdir -p $(LOAD_DIR)
	$(PY) benchmarks/load/prepare.py --applicants $(LOAD_APPLICANTS) \
		--sample-pdf $(LOAD_DIR)/sample.pdf > $(LOAD_DIR)/personas.json
	LOAD_PERSONAS=$(LOAD_DIR)/personas.json LOAD_ACKS=$(LOAD_DIR)/acknowledged.jsonl \
	LOAD_SAMPLE_PDF=$(LOAD_DIR)/sample.pdf $(LOAD_VENV)/bin/locust -f benchmarks/load/locustfile.py \
		--headless --host $(LOAD_HOST) --run-time $(LOAD_SECONDS)s --stop-timeout 15 \
		--users $$(( $(LOAD_APPLICANTS) + $(LOAD_REVIEWERS) + $(LOAD_FINANCE) )) --spawn-rate 10 \
		--only-summary --csv $(LOAD_DIR)/stats; locust=$$?; \
	$(PY) benchmarks/load/verify.py $(LOAD_DIR)/acknowledged.jsonl && exit $$locust

# The fault runs (tests/faults/run.py) on private PostgreSQL and Redis instances of their own.
faults: setup $(VENV)/.dev-installed
	$(PY) tests/faults/run.py $(FAULT_ARGS)

mail: setup
	@$(PY) manage.py latest_mail $(if $(TO),--to $(TO),)

otp: setup
	@$(PY) manage.py demo_otp $(USER_NAME)

clean:
	rm -rf $(VENV) $(LOAD_VENV) var staticfiles
