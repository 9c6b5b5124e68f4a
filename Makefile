# uso: the two commands of the README are `make reports` and `make test`.
# Both create .venv with the machine's python3 when it is missing and install the package into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RAW ?= ../shared/data/raw

.PHONY: help setup setup-test reports test lab snapshot lint bench bench-check clean

help:
	@echo "make reports   set up .venv and render every network member's report into reports/"
	@echo "make test      set up .venv with the test extras and run the test suite"
	@echo "make lab       JupyterLab on notebooks/ with the uso kernel"
	@echo "make snapshot  rebuild the embedded snapshot from $(RAW)"
	@echo "make lint      ruff"
	@echo "make bench     benchmarks/batch.py"
	@echo "make bench-check  the factory-speed check: uso report >= 4x the naive way on 8 municipalities"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps make a second `make` skip the install unless pyproject.toml changed.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name uso --display-name "uso (Python 3)" >/dev/null
	touch $@

# Each optional job installs its extra (pyproject.toml): the tests need [test] (which brings
# [dask] and [snapshot]), `make lab` [lab], `make snapshot` [snapshot].
$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

$(VENV)/.installed-lab: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	touch $@

$(VENV)/.installed-snapshot: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[snapshot]"
	touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

reports: setup
	$(BIN)/uso report --members

test: setup-test
	$(BIN)/ruff check uso_lib tests benchmarks
	$(BIN)/python -m pytest

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

snapshot: $(VENV)/.installed-snapshot
	$(BIN)/uso snapshot build --raw $(RAW)

lint: setup-test
	$(BIN)/ruff check uso_lib tests benchmarks

bench: setup
	$(BIN)/python benchmarks/batch.py

bench-check: setup
	$(BIN)/python benchmarks/batch.py --check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
