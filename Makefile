# The two commands a newcomer needs: `make up` and `make test`. Everything they need is
# installed from the project's own files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# What Spanish-speaking customers read, compiled from the catalogue (never committed).
MESSAGES := locale/es/LC_MESSAGES/django.mo

.PHONY: up test lint bench chaos clean browser install lock gettext

# Installs exactly the versions in the lock files (make lock re-resolves pyproject's ranges).
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The web app's front-end packages (htmx, Chart.js), served by Django from node_modules.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The browser tests drive Debian's chromium (never Playwright's own download).
browser:
	@command -v chromium >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# compilemessages needs GNU gettext's msgfmt: Debian's gettext, installed like chromium.
gettext:
	@command -v msgfmt >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext)

$(MESSAGES): locale/es/LC_MESSAGES/django.po | gettext
	$(BIN)/touchbase compilemessages --ignore=.venv --ignore=node_modules --ignore=var

## Production install (README, "Run in production"): runtime packages only, no demo, no dev tools
install:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	$(MAKE) gettext
	$(BIN)/touchbase compilemessages --ignore=.venv --ignore=node_modules --ignore=var

## Re-resolve pyproject.toml's ranges into requirements.lock and requirements-dev.lock
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e .
	{ echo "# Runtime dependencies, resolved from pyproject.toml's ranges (regenerate: make lock)."; \
	  .lock-venv/bin/pip freeze --exclude-editable; } > requirements.lock
	.lock-venv/bin/pip install --quiet -c requirements.lock -e '.[dev]'
	{ echo "# Runtime and development dependencies (make test), consistent with requirements.lock."; \
	  echo "# Regenerate both with: make lock"; \
	  .lock-venv/bin/pip freeze --exclude-editable; } > requirements-dev.lock
	rm -rf .lock-venv

## Set up and run touchbase on SQLite with a demo business: http://127.0.0.1:8000
up: $(STAMP) $(NODE_STAMP) $(MESSAGES)
	TOUCHBASE_DEBUG=$${TOUCHBASE_DEBUG:-true} TOUCHBASE_SIGNUP=$${TOUCHBASE_SIGNUP:-open} $(BIN)/touchbase up --demo

## Set up and run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
test: $(STAMP) $(NODE_STAMP) $(MESSAGES) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/touchbase makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks (bench/bench_*.py) on DATABASE_URL; results in bench/results/latest.json
bench: $(STAMP) $(MESSAGES)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## The chaos test, long: 10,000 deliveries, 4 workers (DATABASE_URL=postgres://... required)
chaos: $(STAMP)
	TOUCHBASE_CHAOS_DELIVERIES=$${TOUCHBASE_CHAOS_DELIVERIES:-10000} \
	TOUCHBASE_CHAOS_WORKERS=$${TOUCHBASE_CHAOS_WORKERS:-4} \
	$(BIN)/pytest tests/test_chaos.py -s --create-db $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .lock-venv var .pytest_cache .ruff_cache node_modules test-results
