# The two commands of the README: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEMO_APPLICATIONS ?= 3000
# The suite runs on pytest-xdist: one process per core ("auto"; PYTEST_WORKERS=0 runs it in this process).
# --dist loadgroup keeps the tests marked with one xdist_group on one worker (tests/conftest.py says which).
PYTEST_WORKERS ?= auto

.PHONY: run test setup deps-dev lint check serve demo-data clean-db pango

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	@$(MAKE) --no-print-directory pango
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/activate
	@$(MAKE) --no-print-directory pango
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# WeasyPrint (the annual report's PDF) loads Debian's Pango at import; installed when missing and run as root.
pango:
	@ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
		>/dev/null) || echo "Pango could not be installed: the annual report's PDF needs libpango-1.0-0"

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

static/vendor/.done: node_modules/.package-lock.json scripts/vendor.mjs
	npm run --silent vendor
	touch $@

setup: $(VENV)/.runtime static/vendor/.done
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	$(PY) manage.py migrate --noinput -v 0

## make run: set up, load demo users and demo data, serve at http://127.0.0.1:8000
run: setup demo-data serve

demo-data:
	$(PY) manage.py create_demo_users
	$(PY) manage.py seed_demo --applications $(DEMO_APPLICATIONS) --seed 1 --if-empty
	$(PY) manage.py recompute_indicators --full

serve:
	@echo "CONATT portal: http://127.0.0.1:8000  (stop with Ctrl+C)"
	$(PY) manage.py runserver 127.0.0.1:8000

## make test: install what the tests need, then lint, check, type-check (mypy, configured in pyproject.toml) and run
## the whole suite
test: $(VENV)/.dev static/vendor/.done
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium could not be installed: browser tests will be skipped"
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CONATT_ENV=test $(PY) manage.py check
	CONATT_ENV=test $(PY) manage.py makemigrations --check --dry-run
	CONATT_ENV=test $(BIN)/mypy
	CONATT_ENV=test $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)
