# aict — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: run cluster cluster-reload cluster-deps test deps dev-deps assets migrate system-test-deps lint bench clean

run: deps assets ## install, build, migrate, create the first admin, serve on 127.0.0.1:8080
	@$(PY) wsgi.py --setup

cluster: deps assets cluster-deps ## the production shape on one machine: nginx, AICT_WEB_PROCESSES (2) web processes, the terminal host, Redis
	@$(PY) -m aict.runtime.cluster

cluster-reload: ## restart make cluster's web processes one at a time, each healthy before the next (terminals stay)
	@$(PY) -m aict.runtime.cluster reload

# Debian packages make cluster runs, installed only when absent.
cluster-deps:
	@missing=""; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	command -v redis-server >/dev/null || timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379' 2>/dev/null \
		|| missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# The socket contract once more on the libraries' own transport (FAST_PATHS off, ~1 minute): the fast
# paths in aict/realtime/transport/ may change speed, never what a client sees. And once through the
# production shape (make cluster: nginx, two web processes, the terminal host, Redis): there only the
# tests on the shared server run (tests/conftest.py); those on servers of their own ran in the main pass.
CONTRACT_TESTS := $(wildcard tests/integration/test_stream_*.py) tests/integration/test_input_acks.py \
	tests/integration/test_websocket_frames.py tests/integration/test_bad_input.py \
	tests/integration/test_event_fuzz.py tests/integration/test_socket_security.py \
	tests/integration/test_smoke.py tests/integration/test_socket_token_expiry.py \
	tests/integration/test_workspace_watch.py \
	$(addprefix tests/integration/test_auth.py::,\
	test_logout_disconnects_sockets_of_that_login_within_5_seconds \
	test_expired_token_is_refused_over_http_and_socket test_forged_token_is_refused_over_http_and_socket)

# The tests wait on servers, shells, sshd and Chromium far more than they compute: TEST_WORKERS
# pytest-xdist workers, each with its own servers, sshd, browser and PostgreSQL database. Whole modules
# go to a worker (loadscope): a module's tests keep their order and share its module-scoped fixtures;
# modules are handed out longest first (tests/conftest.py's LONGEST_MODULES, not xdist's most-tests first).
# Tests marked serial measure time under load and run alone afterwards. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
PYTEST := $(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

test: system-test-deps dev-deps assets lint ## install what the tests need, then run the whole suite
	$(PYTEST) -m "not serial" tests
	$(VENV)/bin/pytest -q -m serial tests
	AICT_TEST_FAST_PATHS=0 $(PYTEST) $(CONTRACT_TESTS)
	AICT_TEST_CLUSTER=1 $(PYTEST) $(CONTRACT_TESTS)

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
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/bin/systemd-analyze ] || missing="$$missing systemd"; \
	[ -x /usr/bin/asciinema ] || missing="$$missing asciinema"; \
	[ -x /usr/bin/zsh ] || missing="$$missing zsh"; \
	command -v vim >/dev/null || missing="$$missing vim"; \
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
