# aict — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: run test deps dev-deps assets migrate system-test-deps lint bench clean

run: deps assets ## install, build, migrate, create the first admin, serve on 127.0.0.1:8080
	@$(PY) wsgi.py --setup

test: system-test-deps dev-deps assets lint ## install what the tests need, then run the whole suite
	$(VENV)/bin/pytest -q tests

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.deps: requirements.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

static/dist/.built: node_modules/.package-lock.json $(shell find static/src -type f 2>/dev/null)
	npm run build
	@touch $@

assets: static/dist/.built

migrate: deps
	@$(FLASK) db upgrade

# Debian packages the tests use, installed only when absent.
system-test-deps:
	@missing=""; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

lint: dev-deps ## ruff, and the layer contracts in pyproject.toml (import-linter)
	$(VENV)/bin/ruff check aict tests bench wsgi.py
	$(VENV)/bin/lint-imports

bench: dev-deps assets ## throughput, echo latency and memory; prints a table
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules static/dist
