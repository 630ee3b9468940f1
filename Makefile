# Two commands for newcomers: `make demo` and `make test` (README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements/lock.txt | cut -d' ' -f1)

.PHONY: install demo test lint screenshots bench bench-install

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
	PAGERDUTY_EU_API_URL=$(SANDBOX_URL)/eu DJANGO_SETTINGS_MODULE=portal.settings.dev \
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
# `make bench BENCH_ARGS="--latency-ms 50 --only pages"`. Benchmark-only
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
