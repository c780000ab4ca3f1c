# Newsroom: `make run` to set up and serve, `make test` to run the suite.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench setup lint fixtures clean

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

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks print their numbers (-s); they are not part of `make test`.
bench: $(VENV)/.installed
	$(PY) -m pytest benchmarks -q -s

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Regenerate fixtures/sample.json from fixtures/sample-dump.txt (byte-identical on every run).
fixtures: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py build_fixtures

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
