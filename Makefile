# Newsroom: `make run` to set up and serve, `make test` to run the suite.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint fixtures clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@python=$$(bin/find-python) && echo "Using $$python" && \
	  ( [ -x $(PY) ] || $$python -m venv $(VENV) )
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo

run: setup
	$(PY) manage.py runserver $(HOST):$(PORT)

# The accessibility checkers the tests run (pinned in package-lock.json; vnu-jar's Java download is skipped:
# it runs on the machine's Java).
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

test: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Regenerate fixtures/sample.json from fixtures/sample-dump.txt (byte-identical on every run).
fixtures: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py build_fixtures

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis
