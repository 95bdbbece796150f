# `make demo` and `make test` each set up .venv from nothing, then run.
# torch is installed first and pinned (a CPU build on this machine); letting pip choose it pulls CUDA.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
# USE_CI_COMMIT_PIN=1 (CI sets it): install exactly the Lightning release in requirements/lightning-pin.txt.
USE_CI_COMMIT_PIN ?=
LIGHTNING_PIN := requirements/lightning-pin.txt
PINNED := $(filter 1,$(USE_CI_COMMIT_PIN))
# A stamp per mode, so that turning the pin on reinstalls.
STAMP := $(VENV)/.installed$(if $(PINNED),-pinned)

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml $(if $(PINNED),$(LIGHTNING_PIN))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]" $(if $(PINNED),-r $(LIGHTNING_PIN))
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/ftsc check examples/bert.fts
	$(BIN)/ftsc compile examples/bert.fts -o out/bert.plan.json
	$(BIN)/ftsc explain out/bert.plan.json --namespace examples/namespaces/bert-base.json

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache .hypothesis
