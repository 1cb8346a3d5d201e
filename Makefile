# onethread: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

export ONETHREAD_DATABASE_URL ?= sqlite:///var/onethread.db

.PHONY: run test lint install demo-reset clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate the SQLite database, load the demo once, serve on http://localhost:8000/
run: $(STAMP)
	$(BIN)/onethread db upgrade
	$(BIN)/onethread demo --if-empty
	$(BIN)/onethread serve

## make test: install, lint, check import layers, run the whole suite
test: $(STAMP) lint
	$(BIN)/python -m pytest -n auto --durations=15 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

demo-reset: $(STAMP)
	$(BIN)/onethread demo --reset

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
