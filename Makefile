# Two commands for newcomers: `make demo` and `make test` (README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements/lock.txt | cut -d' ' -f1)

.PHONY: install demo test lint screenshots bench bench-install pdmcp-install

$(STAMP): requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required.") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/lock.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

# The PagerDuty sandbox runs beside the portal and stops with it (README,
# "PagerDuty sandbox"); override with e.g. `make demo SANDBOX_PORT=9000`.
# The portal is the ASGI app (pages and the MCP gateway at /mcp) under
# uvicorn, as in production (README, Connect an AI agent).
SANDBOX_PORT ?= 8765
SANDBOX_SEED ?= 1
SANDBOX_URL := http://127.0.0.1:$(SANDBOX_PORT)

demo: install
	@$(BIN)/python scripts/init_env.py
	@mkdir -p var/static
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py pagerduty_sandbox --port $(SANDBOX_PORT) --seed $(SANDBOX_SEED) & \
	sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py pagerduty_sandbox_configure_demo --seed $(SANDBOX_SEED) --sandbox-url $(SANDBOX_URL) && \
	PAGERDUTY_IDENTITY_URL=$(SANDBOX_URL) PAGERDUTY_API_URL=$(SANDBOX_URL) \
	PAGERDUTY_EU_API_URL=$(SANDBOX_URL)/eu PAGERDUTY_WEB_URL=$(SANDBOX_URL)/web \
	DJANGO_SETTINGS_MODULE=portal.settings.dev \
	$(BIN)/uvicorn portal.asgi:application --host 127.0.0.1 --port 8000 --no-access-log

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Refresh docs/screenshots/ from the browser tests.
screenshots: install
	PORTAL_SCREENSHOTS=1 $(BIN)/pytest -m browser

# Performance figures against the sandbox (README, Performance); e.g.
# `make bench BENCH_ARGS="--latency-ms 50 --only pages"`. The mcp section
# installs pagerduty-mcp (pdmcp-install) when a Python 3.12 is found;
# BENCH_MCP_CALLS=list_incidents,tools/list narrows its calls. Benchmark-only
# packages (PagerDuty's SDK for the export baseline) come from
# bench/requirements.txt, compiled against the product lock, so `make test`
# never installs them.
BENCH_STAMP := $(VENV)/.bench-installed-$(shell cat requirements/lock.txt bench/requirements.txt | cksum | cut -d' ' -f1)

$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r bench/requirements.txt
	@rm -f $(VENV)/.bench-installed-*
	@touch $(BENCH_STAMP)

bench-install: $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# PagerDuty's official MCP server (pagerduty-mcp) needs Python 3.12, so it
# gets its own venv from the hashed bench/pdmcp-requirements.txt. The tool
# inventory (scripts/derive_mcp_tools.py), the tests that run its tools
# against the sandbox, and benchmarks use it; the portal never imports it.
# The wheels stay in $(PDMCP_VENV)/wheels so the inventory can hash the one
# it was installed from.
PDMCP_PYTHON ?= python3.12
PDMCP_VENV ?= .venv-pdmcp
PDMCP_STAMP := $(PDMCP_VENV)/.installed-$(shell cksum < bench/pdmcp-requirements.txt | cut -d' ' -f1)

$(PDMCP_STAMP): bench/pdmcp-requirements.txt
	@$(PDMCP_PYTHON) -c 'import sys; sys.exit("pagerduty-mcp needs Python 3.12 or newer.") if sys.version_info < (3, 12) else None'
	@test -x $(PDMCP_VENV)/bin/python || $(PDMCP_PYTHON) -m venv $(PDMCP_VENV)
	$(PDMCP_VENV)/bin/python -m pip download --quiet --disable-pip-version-check --require-hashes --dest $(PDMCP_VENV)/wheels -r bench/pdmcp-requirements.txt
	$(PDMCP_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-index --find-links $(PDMCP_VENV)/wheels -r bench/pdmcp-requirements.txt
	@rm -f $(PDMCP_VENV)/.installed-*
	@touch $(PDMCP_STAMP)

pdmcp-install: $(PDMCP_STAMP)
