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
# A stamp per install and mode (turning the pin on reinstalls): the demo's (torch, then ftsc with the `demo`
# extra) and the test's, which adds `dev` (every extra and the tools) on top of it.
DEMO_STAMP := $(VENV)/.installed-demo$(if $(PINNED),-pinned)
STAMP := $(VENV)/.installed$(if $(PINNED),-pinned)
# The VS Code extension (editors/vscode): npm ci from the committed lockfile, once per lockfile change.
VSCODE := editors/vscode
NODE_MODULES := $(VSCODE)/node_modules/.package-lock.json

.PHONY: demo test lint typecheck unit bench bench-scaling clean editors editors-check vsix real-editors

$(DEMO_STAMP): pyproject.toml $(if $(PINNED),$(LIGHTNING_PIN))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[demo]" $(if $(PINNED),-r $(LIGHTNING_PIN))
	touch $@

$(STAMP): $(DEMO_STAMP)
	$(BIN)/python -m pip install -q -e ".[dev]" $(if $(PINNED),-r $(LIGHTNING_PIN))
	touch $@

demo: $(DEMO_STAMP)
	@mkdir -p out
	$(BIN)/python examples/demo/run.py --out out

# editors before unit: tests/editors needs the extension's node_modules and its .vsix;
# real-editors before unit: tests/editors/real drives Neovim and VS Code (code-server).
test: lint typecheck editors real-editors unit

# tools/import_cycles.py: no import cycle among ftsc's modules (docs/architecture.md draws the arrows).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/python tools/import_cycles.py

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

# The extension: type check, grammar tests, bundle and package, launch tests (against this .venv's ftsc).
editors: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory editors-check; \
	else \
		echo "editors: SKIPPED, npm not found: install Node.js 20+ with npm to check the VS Code extension"; \
	fi

editors-check: $(NODE_MODULES)
	cd $(VSCODE) && FTSC_TEST_PYTHON="$(abspath $(BIN)/python)" npm run --silent check

$(NODE_MODULES): $(VSCODE)/package-lock.json
	cd $(VSCODE) && npm ci --no-audit --no-fund
	touch $@

# Neovim, node 24 + code-server + playwright-core, Chromium: under ~/.cache/ftsc-editors, one folder per
# version, so that a second run installs nothing. A part that cannot be installed is named, and its test
# skipped; under CI=true that fails instead.
real-editors: $(STAMP)
	$(BIN)/python tools/install_editors.py

vsix: $(NODE_MODULES)
	cd $(VSCODE) && npm run --silent package

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# 1k to 250k names: check, LSP open and edit against the namespace's size; writes benchmarks/scaling.png.
bench-scaling: $(STAMP)
	$(BIN)/python benchmarks/scaling.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache .hypothesis \
		$(VSCODE)/node_modules $(VSCODE)/dist $(VSCODE)/out $(VSCODE)/*.vsix
