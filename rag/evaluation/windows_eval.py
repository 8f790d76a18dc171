"""Sentence windows on the three (or four) question styles: the table the windows default was chosen from (#18 item 3).

For each setting (characters a clause must exceed to get windows; 0: none), each style's index is copied to
``INDEX-windowsN`` (its clause cache copied, its documents ingested again with ``--windows N``: only the
windows the cache lacks are embedded, ~1 hour for the laws at 150 on one thread, once) and searched under
the rows that decide the default, 5-fold as `rag.evaluation.styles` (the fold query encoders trained there,
~25 min, or given with ``--encoders DIR`` holding encoder-fold0.npz …). Rule 2 is judged against plain
hybrid 1:1 without windows. ``--place``, ``--draft`` and ``--keyword INDEX Q..`` add the unseen styles of
`rag.evaluation.styles`; the last row is the default's ranking of other places' documents
(`SearchConfig.elsewhere`) on top of the encoder.

Run: python -m rag.evaluation.windows_eval --windows 0,300,150 --stard INDEX Q --policy INDEX Q --situation INDEX Q..
[--place INDEX Q..] [--draft INDEX Q..] [--keyword INDEX Q..] (``make eval-windows``).
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from rag.embedding.embed import TUNED_MODEL, tuned_layers
from rag.evaluation import styles as st
from rag.ingest.pipeline import ingest
from rag.storage.cache import CACHE_FILE
from rag.storage.index import ClauseIndex

logger = logging.getLogger(__name__)
ROWS = ("BM25 only", "dense only", st.BASELINE, "query encoder, dense only", "query encoder, hybrid 2:1",
        f"query encoder, hybrid 2:1, other places ×{st.PLACES:g}")


def with_windows(index: str, chars: int) -> str:
    """The index folder holding `index`'s documents with windows for clauses over `chars` characters: the
    index itself when it has that setting, else ``INDEX-windowsCHARS`` (made or brought up to date)."""
    src = ClauseIndex.load(index)
    if src.window_chars == chars and "windows" in src.manifest:
        return index
    dst = Path(f"{index}-windows{chars}")
    dst.mkdir(parents=True, exist_ok=True)
    if not (dst / CACHE_FILE).exists():
        with closing(sqlite3.connect(Path(index) / CACHE_FILE)) as a, closing(sqlite3.connect(dst / CACHE_FILE)) as b:
            a.backup(b)
    logger.info("%s: ingesting its documents again with windows over %d characters", dst, chars)
    ingest(sorted({d.source for d in src.docs.values()}), dst, src.spec, show_progress=False, lexical=src.lexical,
           windows=chars)  # fmt: skip
    return str(dst)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.evaluation.windows_eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--windows", default="0,300,150", help="settings to compare, comma-separated (0: none)")
    st.style_arguments(p)
    p.add_argument("--encoders", help="a folder with the fold query encoders (encoder-fold0.npz …); default: train")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = [int(w) for w in a.windows.split(",")]
    given = st.styles_given(p, a)
    options = {k: st.OPTIONS[k] for k in ROWS}
    rows: dict[str, dict] = {n: {} for n in given}
    with tempfile.TemporaryDirectory() as tmp:
        towers = st.fold_files(a.encoders) or st.encoders([given["stard"], given["policy"]], tmp)
        single = str(tuned_layers(TUNED_MODEL))  # the packaged query encoder alone, as this table was measured
        for chars in settings:
            for n, s in given.items():
                style = st.Style(n, with_windows(s.index, chars), s.questions)
                folded = towers if n in ("stard", "policy") else None
                got = st.style_rows(style, {"linear": (None, ""), "encoder": (folded, single)}, options)
                for k, m in got.items():
                    rows[n][k if chars == 0 else f"{k}, windows {chars}"] = m
    if st.BASELINE not in rows["stard"]:
        p.error("give 0 among --windows: rule 2 is judged against plain hybrid 1:1 without windows")
    st.print_table(rows, "sentence windows (rag.evaluation.windows_eval)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
