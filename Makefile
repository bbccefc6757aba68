# Two entry points: `make demo` trains a network on the built-in data set; `make test` runs everything.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.base# ember and NumPy: all the demo needs
STAMP := $(VENV)/.installed# and the test tools, with torch as the oracle

.PHONY: demo test lint format bench mutate clean

$(BASE): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(BASE)

$(STAMP): $(BASE)
	# torch is the tests' oracle only; the pinned version installs a CPU build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(BASE)
	$(BIN)/python -m ember train

lint: $(STAMP)
	$(BIN)/ruff check ember tests bench
	$(BIN)/ruff format --check ember tests bench

format: $(STAMP)
	$(BIN)/ruff format ember tests bench
	$(BIN)/ruff check --fix ember tests bench

# The suite runs twice: with ember's machine-dependent choices as this machine's checks decide, and with
# every fallback forced (EMBER_FALLBACKS=all), so ember's other outcome is tested here too. (Which of torch's
# kernels runs is torch's choice; tests compare bits with torch only where torch's own check says it can.)
test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n 2 tests
	EMBER_FALLBACKS=all $(BIN)/python -m pytest -q -n 2 tests

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Mutation testing (slow, not part of `make test`): Cosmic Ray mutates a sample of each core module in a
# private clone and runs that module's tests; see docs/testing.md. MUTATE_ARGS="--modules optim --sites 40".
mutate: $(STAMP)
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
