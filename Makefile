# onethread: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

export ONETHREAD_DATABASE_URL ?= sqlite:///var/onethread.db

.PHONY: run test lint install demo-reset tour clean bench soak

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

## make test: install, lint, check import layers and types, run the whole suite
test: $(STAMP) lint
	$(BIN)/python -m pytest -n auto --dist worksteal --durations=15 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

## make bench: the benchmark suite on SQLite, and on PostgreSQL when ONETHREAD_BENCH_PG_URL names a server
## (BENCH_ARGS="--customers 10000 --quick" for the CI size); figures in bench/results/
bench: $(STAMP)
	$(BIN)/python -m bench.suite --db sqlite $(BENCH_ARGS)
	if [ -n "$$ONETHREAD_BENCH_PG_URL" ]; then $(BIN)/python -m bench.suite --db postgresql $(BENCH_ARGS); fi

## make soak: SIGKILL the server 25 times and the worker 10 times under ingest load, on SQLite, and on
## PostgreSQL when ONETHREAD_BENCH_PG_URL names a server; a table of lost and duplicated contacts and events
## (docs/reliability.md; SOAK_ARGS="--server-kills 3 --worker-kills 2" for the short one)
soak: $(STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

demo-reset: $(STAMP)
	$(BIN)/onethread demo --reset

## make tour: run the browser tests and copy their screenshots (SQLite run) into docs/tour/
tour: $(STAMP)
	rm -rf build/screenshots
	$(BIN)/python -m pytest -q tests/browser -k sqlite -p no:randomly
	mkdir -p docs/tour
	for f in build/screenshots/*.png; do case "$$f" in *-postgresql.png|*/harness-*) ;; *) cp "$$f" docs/tour/ ;; esac; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
