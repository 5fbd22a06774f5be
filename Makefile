# Beacon: `make run` (set up everything and serve the Camden demo) and `make test` (the whole suite).
# Python is pinned to 3.12 (Django 6 needs 3.12+; this machine's default python3 is 3.11).
PYTHON_VERSION := 3.12
comma := ,
PY_SYSTEM := $(shell for p in $$(ls -d $$HOME/.pyenv/versions/$(PYTHON_VERSION).*/bin/python 2>/dev/null | sort -V -r) $$(command -v python$(PYTHON_VERSION)); do "$$p" -c 'import sys; assert sys.version_info[:2] == ($(subst .,$(comma),$(PYTHON_VERSION)))' 2>/dev/null && echo "$$p" && break; done)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
LA ?= 202
# Not TERM: that is the terminal type in every shell's environment.
RISK_TERM ?= autumn-2026
PG_URL ?= postgres://postgres@127.0.0.1:5432/beacon
# The suite runs in parallel (pytest-xdist, one test database per worker; decision 0025). Whole files go
# to one worker (--dist loadfile) so module-scoped fixtures load once. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
PYTEST := $(VENV)/bin/pytest -q -p no:cacheprovider $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
export BEACON_DATA_DIR ?= $(abspath ..)/shared/data/raw

.PHONY: run test install assets browser migrate demo users lint typecheck check-deploy migrations-check test-sqlite test-postgres bench load lock clean

run: install assets migrate demo users
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Beacon is at http://$(HOST):$(PORT)/ - demo sign-ins are in var/demo-credentials.txt"
	$(VENV)/bin/gunicorn beacon.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

test: install assets browser lint typecheck check-deploy migrations-check test-sqlite test-postgres

$(PY):
	@test -n "$(PY_SYSTEM)" || (echo "Python $(PYTHON_VERSION) not found (install it or pyenv install $(PYTHON_VERSION))" && exit 1)
	$(PY_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY) $(VENV)/.installed
$(VENV)/.installed: requirements.lock
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

assets: node_modules/.package-lock.json
	# GOV.UK Frontend compiled with council settings (Arial, no GDS Transport), leaflet and axe vendored
	mkdir -p beacon/static/vendor/govuk beacon/static/vendor/leaflet beacon/static/vendor/axe
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js beacon/static/vendor/govuk/
	node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules beacon/assets/scss/frontend.scss beacon/static/vendor/govuk/frontend.css
	cp -r node_modules/govuk-frontend/dist/govuk/assets beacon/static/vendor/govuk/
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css beacon/static/vendor/leaflet/
	cp -r node_modules/leaflet/dist/images beacon/static/vendor/leaflet/
	cp node_modules/axe-core/axe.min.js beacon/static/vendor/axe/
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Debian's Chromium for the browser tests (Playwright's own browser download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null)

migrate: install
	$(PY) manage.py migrate --noinput -v0

demo: install
	$(PY) manage.py load_demo --la $(LA)
	$(PY) manage.py evaluate_risk --term $(RISK_TERM) --la $(LA)
	-$(PY) manage.py train_risk_model --term $(RISK_TERM) --la $(LA) --history-complete-until 2019-09-01
	$(PY) manage.py load_accountability

users: install
	$(PY) manage.py create_demo_users --la $(LA) --output var/demo-credentials.txt

# lint-imports: the dependency order (docs/ARCHITECTURE.md "Layers", contracts in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy beacon

# Django's deployment checklist with the production settings (BEACON_PRODUCTION=1): warnings fail.
check-deploy: install
	BEACON_PRODUCTION=1 BEACON_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	BEACON_ALLOWED_HOSTS=beacon.example.gov.uk BEACON_VAR_DIR=$$(mktemp -d) \
	$(PY) manage.py check --deploy --fail-level WARNING

# Every model change has its migration.
migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: install assets
	$(PY) manage.py collectstatic --noinput -v0
	DATABASE_URL= $(PYTEST)

test-postgres: install assets
	$(PY) manage.py collectstatic --noinput -v0
	DATABASE_URL=$(PG_URL) $(PYTEST)

# Every benchmark in one run (import + risk evaluation vs a polars read, national pages, early-warning
# model, load test), its figures written into docs/PERFORMANCE.md. BENCH_QUICK=1 for a shorter run,
# BENCH_STAGES=import,early-warning,load,load-national to choose stages (bench/README.md).
bench: install
	$(PY) bench/make_bench.py --postgres $(PG_URL)

# Loopback load test alone (not part of `make test`): the closed loop (50 users, no think time) and
# 200 users with 1-3 s think time against gunicorn on SQLite and PostgreSQL.
load: install
	$(PY) bench/load.py --postgres $(PG_URL)

lock: $(PY)
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip freeze | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) node_modules staticfiles beacon/static/vendor var
