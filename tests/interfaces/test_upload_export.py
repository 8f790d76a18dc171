from __future__ import annotations

import io
import zipfile

import docx
import pytest

from rag.citing.cite import shared_spans
from rag.citing.export import resolve_items, to_docx, to_markdown
from rag.interfaces.upload import UploadError, safe_name, store
from rag.reading.load import load_file
from rag.search.retrieve import SearchConfig, Searcher, quoted_phrases
from rag.storage.index import ClauseIndex
from tests.conftest import REPO


def _docx_bytes(text: str) -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_safe_names():
    assert safe_name("../../evil.txt") == "evil.txt"
    assert safe_name("..\\..\\win.txt") == "win.txt"
    assert safe_name("a<b>:c?.md") == "a_b__c_.md"
    with pytest.raises(UploadError):
        safe_name("../..")


def test_store_accepts_good_files_inside_the_library(tmp_path):
    lib = tmp_path / "lib"
    p = store(lib, "../../evil.txt", "第一条 本办法。".encode())
    assert p == (lib / "evil.txt").resolve() and p.read_text(encoding="utf-8") == "第一条 本办法。"
    assert not (tmp_path / "evil.txt").exists()
    assert store(lib, "ok.docx", _docx_bytes("一、总则")).name == "ok.docx"
    assert sorted(f.name for f in lib.iterdir()) == ["evil.txt", "ok.docx"]


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty"),
        ("fake.pdf", b"\x7fELF\x02\x01binary" * 50, "not a PDF file .no %PDF header"),
        ("fake.docx", b"plain text", "not a zip"),
        ("nodoc.docx", None, "word/document.xml"),
        ("bomb.docx", "bomb", "zip bomb"),
        ("big.txt", b"a" * (20 * 1024 * 1024 + 1), "over the"),
        ("run.exe", b"MZ", "not accepted"),
        ("bin.txt", bytes(range(256)) * 8, "not a text file"),
    ],
)
def test_store_refuses_with_a_reason(tmp_path, name, data, reason):
    if data is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("hello.txt", "hi")
        data = buf.getvalue()
    elif data == "bomb":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("word/document.xml", "<w/>")
            z.writestr("word/padding.bin", b"\0" * (150 * 1024 * 1024))
        data = buf.getvalue()
    with pytest.raises(UploadError, match=reason) as exc:
        store(tmp_path / "lib", name, data)
    assert name.split("/")[-1] in str(exc.value)
    assert not (tmp_path / "lib").exists() or not any((tmp_path / "lib").iterdir())


def test_study_pack_markdown_and_docx(fake_embedder):
    doc = load_file(REPO / "tests" / "data" / "policy_small.txt")
    idx = ClauseIndex.build([doc], fake_embedder, show_progress=False)
    ids = [c.clause_id for c in idx.clauses if c.label in ("1.", "(二)")] + ["missing:9"]
    items = resolve_items(idx, ids)
    assert [i.citation.split(" › ")[-1] for i in items] == ["1.（2023-02-01）", "(二)（2023-02-01）"]
    md = to_markdown("双随机学习材料", items)
    assert md.startswith("# 双随机学习材料\n")
    assert "## 1. 《2023年市场监管工作要点》 › 一、强化监管执法 › (一)完善双随机机制 › 1.（2023-02-01）" in md
    assert "> (二)加强信用监管" in md and "| 2023年市场监管工作要点 |  | 2023-02-01 |" in md
    d = docx.Document(io.BytesIO(to_docx("双随机学习材料", items)))
    paras = [p.text for p in d.paragraphs]
    assert paras[0] == "双随机学习材料"
    assert "1.双随机抽查比例不低于5%。" in paras and "对失信主体实施联合惩戒。" in paras
    table = d.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["文件", "文号", "日期", "路径"]
    assert table.rows[1].cells[0].text == "2023年市场监管工作要点"


def test_precedent_helpers(fake_embedder):
    assert quoted_phrases("查“双随机、一公开”和「联合惩戒」") == ["双随机、一公开", "联合惩戒"]
    text = "8.进一步完善“双随机、一公开”抽查工作机制,加强部门联合检查"
    spans = shared_spans("要完善双随机、一公开抽查工作机制", text)
    assert [text[s:e] for s, e in spans] == ["双随机、一公开", "抽查工作机制"]  # "完善" is under 4 characters
    doc = load_file(REPO / "tests" / "data" / "policy_small.txt")
    # as the 措辞参考 tab searches: a quoted phrase must occur verbatim (quotes="filter")
    s = Searcher(ClauseIndex.build([doc], fake_embedder, show_progress=False), fake_embedder,
                 SearchConfig(quotes="filter"))  # fmt: skip
    hits = s.search("“联合惩戒”", k=5)
    assert [h.clause.label for h in hits] == ["(二)"]
    assert s.search("“不存在的短语”", k=5) == []
