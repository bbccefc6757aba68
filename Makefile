# Two entry points: `make demo` trains a network on the built-in data set; `make test` runs everything.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch is the tests' oracle only; the pinned version installs a CPU build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m ember train

lint: $(STAMP)
	$(BIN)/ruff check ember tests bench
	$(BIN)/ruff format --check ember tests bench

format: $(STAMP)
	$(BIN)/ruff format ember tests bench
	$(BIN)/ruff check --fix ember tests bench

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n 2 tests

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
