# Two entry points for a fresh machine: `make demo` and `make test`. Both build .venv first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to the CPU build on local disk; an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)  ## ingest the bundled demo shop and run the whole pipeline into out/demo
	$(BIN)/trendcast demo --out out/demo

test: $(STAMP)  ## lint and run the whole test suite
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/pytest

lint: $(STAMP)  ## ruff only
	$(BIN)/ruff check src tests benchmarks scripts

clean:
	rm -rf $(VENV) out .pytest_cache
