# Newsroom: `make run` to set up and serve, `make test` to run the suite (`make test-fast` for its core).
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve worker migrate test test-fast test-tools bench setup lint lock fixtures clean

$(PY):
	@python=$$(bin/find-python) && echo "Using $$python" && $$python -m venv $(VENV)

$(VENV)/.installed: requirements.lock pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

# requirements.lock, the exact versions installed above, is generated from pyproject.toml (its dependencies and
# the test extra) for every Python it supports (3.12 up); run this after changing them. Versions already locked
# stay where they still fit; LOCK_ARGS=--upgrade moves every package to its newest release.
lock: | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip compile --quiet --universal --python $(PY) --python-version 3.12 --extra test \
	  --custom-compile-command "make lock" pyproject.toml -o requirements.lock $(LOCK_ARGS)

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo

# The development server, and beside it a worker for the background tasks (imports, photo renditions),
# stopped with it.
run: setup
	@nice -n 10 $(PY) manage.py db_worker --no-reload & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

# A background worker for production, with the environment of `make serve` (DATABASE_URL, ...): run as many
# as the work needs, on any machine that reaches the database (docs/deploy.md, "Workers"). At a lower CPU
# priority (nice 10): on a machine it shares with app servers, readers' pages come first.
worker: $(VENV)/.installed
	DJANGO_DEBUG=false nice -n 10 $(PY) manage.py db_worker --no-reload

# Production: debug off, static files collected (hashed, compressed), gunicorn (settings in gunicorn.conf.py).
# Needs DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL; migrations are a separate, once-per-release
# step (`manage.py migrate`), see docs/deploy.md.
serve: $(VENV)/.installed
	DJANGO_DEBUG=false $(PY) manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=false HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn

# Once per release, before the new code starts (docs/deploy.md). On PostgreSQL a migration that waits more
# than 5 s for a table lock gives up instead of stalling every request queued behind it; run it again later.
migrate: $(VENV)/.installed
	PGOPTIONS="-c lock_timeout=5s" $(PY) manage.py migrate --noinput


# The accessibility checkers the tests run (pinned in package-lock.json; vnu-jar's Java download is skipped:
# it runs on the machine's Java).
node_modules/.installed: package.json package-lock.json | test-tools
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Chromium, wrk, Java and npm: installed from Debian when missing and run as root, else named (bin/test-tools).
test-tools:
	@bin/test-tools

test: test-tools $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# The core suite, for a quick edit-test loop: SQLite, in this one process, Python packages only. It leaves out
# the tests marked as needing Chromium, gunicorn and production's PostgreSQL and Redis, wrk or the npm checkers
# (the markers in pyproject.toml); `make test` runs them too.
test-fast: $(VENV)/.installed
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -m "not (browser or production or bench or checkers)" $(PYTEST_ARGS)

# Benchmarks (bench/run.py): BENCH_ARGS=--quick for a short run. `make test` runs them at a tiny N.
bench: $(VENV)/.installed
	$(PY) -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Regenerate fixtures/sample.json from fixtures/sample-dump.txt (byte-identical on every run).
fixtures: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py build_fixtures

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis
