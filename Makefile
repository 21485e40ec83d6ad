# Skillpath: `make run` starts the demo, `make test` runs the whole suite.
# Both create .venv when it is missing and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PEERS := .peers

.PHONY: run test lint typecheck clean peers bench-launch

run: $(STAMP)
	$(BIN)/skillpath demo

test: $(STAMP) peers
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Real peers the tests start: each lives in a folder this Makefile owns.
peers: $(STAMP)

clean:
	rm -rf $(VENV) $(PEERS) instance

# Benchmarks: one command each; figures go to BENCHMARKS.md.
bench-launch: $(STAMP)
	$(BIN)/python -m benchmarks.launch
