# The two commands: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The three samples on the in-process emulator, whatever .env says (AZURE_AI_KIT_EMULATOR=1).
demo: $(STAMP)
	@echo "== summariser: a long report, map-reduced across chunks =="
	AZURE_AI_KIT_EMULATOR=1 $(BIN)/python samples/summariser.py samples/data/summariser/report.txt --style brief
	@echo "\n== summariser: a short note, streamed =="
	AZURE_AI_KIT_EMULATOR=1 $(BIN)/python samples/summariser.py samples/data/summariser/partnership.md --style tldr --stream
	@echo "\n== image prompt studio =="
	AZURE_AI_KIT_EMULATOR=1 $(BIN)/python samples/image_prompt.py "a watercolour fox reading a newspaper" --out build/images --force
	@echo "\n== code helper =="
	AZURE_AI_KIT_EMULATOR=1 $(BIN)/python samples/code_helper.py explain samples/data/code_helper/stats.py:1-10

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check azure_ai_kit tests samples bench scripts
	$(BIN)/python scripts/unasync.py --check

typecheck: $(STAMP)
	$(BIN)/mypy --strict azure_ai_kit samples

# The shared-state tests need redis-server: CI installs it when missing; elsewhere they skip.
unit: $(STAMP)
	@command -v redis-server >/dev/null || [ -z "$$CI" ] || (apt-get update && apt-get install -y redis-server)
	$(BIN)/pytest

# The docs site must build cleanly; its Python snippets run in the unit tests.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site

test: lint typecheck docs unit

# Benchmarks (issue #7): not part of `make test`; regenerates docs/benchmarks.md and the chart.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info
