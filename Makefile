# The two commands a newcomer needs: `make up` and `make test`. Everything they need is
# installed from the project's own files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: up test lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web app's front-end packages (htmx, Chart.js), served by Django from node_modules.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The browser tests drive Debian's chromium (never Playwright's own download).
browser:
	@command -v chromium >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

## Set up and run touchbase on SQLite with a demo business: http://127.0.0.1:8000
up: $(STAMP) $(NODE_STAMP)
	TOUCHBASE_DEBUG=$${TOUCHBASE_DEBUG:-true} TOUCHBASE_SIGNUP=$${TOUCHBASE_SIGNUP:-open} $(BIN)/touchbase up

## Set up and run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
test: $(STAMP) $(NODE_STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/touchbase makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks (bench/bench_*.py) on DATABASE_URL; results in bench/results/latest.json
bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules test-results
