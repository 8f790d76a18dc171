"""The same document in the formats offices keep gives the same clauses: labels, heading paths, texts,
and the same identity (title, 文号, issuer, date).

Fixtures are built here: the 红头 notice as typed .txt, as .docx with typed numbering and with Word's
automatic numbering (红头 in a text box, a real footnote, a table), as .doc and .wps saved by LibreOffice;
the policy and regulation pairs of `tests.docgen` through .doc as well.
"""

from __future__ import annotations

import re
import shutil

import pytest

from rag.reading.load import load_file, load_paths
from rag.reading.readers.table import Cell, table_lines
from rag.text.split import split_document
from tests import docgen
from tests import gwfixtures as gw


def _view(doc):
    return [(c.label, c.headings, c.text) for c in split_document(doc)]


def _ident(doc):
    return (doc.title, doc.doc_number, doc.issuer, doc.date)


def _typed_rows(text: str) -> str:
    """The text with its TAB table typed as a .docx's table reads (header, then rows "列名：值；…")."""
    lines = text.split("\n")
    tab = [i for i, ln in enumerate(lines) if "\t" in ln]
    rows = table_lines([[Cell(c) for c in lines[i].split("\t")] for i in tab])
    return "\n".join(lines[: tab[0]] + rows + lines[tab[-1] + 1 :])


@pytest.fixture(scope="module")
def notice_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("notice")
    (d / "notice.txt").write_text(_typed_rows(gw.text(gw.NOTICE_2022)), encoding="utf-8")
    typed, auto = gw.notice_docx(d, auto=False), gw.notice_docx(d, auto=True)
    doc_dir = d / "lo"
    (doc,) = gw.lo_convert([auto], "doc", doc_dir)
    wps = shutil.copy(doc, d / "notice-auto.wps")
    return {"txt": d / "notice.txt", "docx-typed": typed, "docx-auto": auto, "doc": doc, "wps": wps}


def test_notice_same_clauses_and_identity_in_every_format(notice_files):
    base = load_file(notice_files["txt"])
    assert _ident(base) == ("宁波市民政局关于印发2022年全市民政系统依法行政工作要点的通知", "甬民发〔2022〕12号",
                            "宁波市民政局", "2022-03-01")  # fmt: skip
    want = _view(base)
    assert len(want) == 8
    for kind, path in notice_files.items():
        doc = load_file(path)
        assert _ident(doc) == _ident(base), kind
        assert _view(doc) == want, kind
        assert doc.meta["主送"] == "各区（县、市）民政局，局机关各处室", kind
        assert doc.meta["抄送"].startswith("抄送：市委办公厅"), kind
        assert doc.kind == {"txt": "txt", "doc": "doc", "wps": "doc"}.get(kind, "docx")


def _lines(text: str) -> list[str]:
    return [re.sub(r"\s+", "", ln) for ln in text.splitlines() if ln.strip()]


def test_policy_and_regulation_pairs_through_doc(tmp_path):
    """Typed numbering survives .doc exactly. Automatic numbering in a .doc reads as LibreOffice itself
    displays that file (its own text export is the oracle): LibreOffice ignores w:lvlRestart and splits
    lists that share an abstractNum, so a .doc it wrote can number differently from Word's .docx."""
    typed_policy, auto_policy, typed_reg, auto_reg = files = [*docgen.policy_pair(tmp_path),
                                                              *docgen.regulation_pair(tmp_path)]  # fmt: skip
    docs = gw.lo_convert(files, "doc", tmp_path / "doc")
    assert _view(load_file(docs[0])) == _view(load_file(typed_policy))
    assert _view(load_file(docs[2])) == _view(load_file(typed_reg))
    for old in (docs[1], docs[3]):
        (shown,) = gw.lo_convert([old], "txt:Text (encoded):UTF8", tmp_path / f"txt-{old.stem}")
        shown = shown.with_suffix(".txt")
        assert _lines(load_file(old).text) == _lines(shown.read_text(encoding="utf-8-sig")), old.name
    # Word's semantics for the .docx itself: the same clauses as the typed original
    assert _view(load_file(auto_policy)) == _view(load_file(typed_policy)) and len(_view(load_file(typed_policy))) == 20
    assert _view(load_file(auto_reg)) == _view(load_file(typed_reg))
    arts = [c.label for c in split_document(load_file(auto_reg)) if c.label.startswith("第")]
    assert arts[0] == "第一条" and arts[-1] == "第二十一条" and len(arts) == 21


def test_folder_accounts_for_every_file(tmp_path, notice_files):
    for p in notice_files.values():
        shutil.copy(p, tmp_path)
    (tmp_path / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (tmp_path / "~$notice-auto.docx").write_bytes(b"\x00lock")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    docs, errors = load_paths([tmp_path])
    reasons = {e.source.rsplit("/", 1)[-1]: e.reason for e in errors}
    assert len(docs) == 5
    assert reasons == {
        "photo.heic": "unsupported file type .heic",
        "~$notice-auto.docx": "an Office lock file (~$…), not a document",
        "dangling.txt": "broken symbolic link",
    }


def test_pdf_exported_from_auto_numbered_docx_gives_the_typed_clauses(tmp_path):
    """The PDF an office exports from an auto-numbered .docx (here LibreOffice's export, page numbers
    and all) gives the labels, paths and texts of the typed original; texts compared without
    whitespace, which the PDF's layout decides. The regulation's chapters and articles are two lists,
    as LibreOffice renders them like Word (it ignores w:lvlRestart, see the .doc test)."""
    typed_policy, auto_policy = docgen.policy_pair(tmp_path)
    typed_reg, _ = docgen.regulation_pair(tmp_path)
    two_lists = docgen.regulation_two_lists(tmp_path)
    pdfs = gw.lo_convert([auto_policy, two_lists], "pdf", tmp_path / "pdf")
    for ref, pdf in ((typed_policy, pdfs[0]), (typed_reg, pdfs[1])):
        want = [(c.label, c.headings, _ws(c.text)) for c in split_document(load_file(ref))]
        doc = load_file(pdf)
        got = [(c.label, c.headings, _ws(c.text)) for c in split_document(doc)]
        assert got == want, pdf.name
        assert doc.kind == "pdf" and len(doc.pages) >= 1 and doc.title == load_file(ref).title
        assert not re.search(r"^[—-]\s*\d+\s*[—-]$", doc.text, re.M)  # page numbers are not text


def _ws(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_scanned_notice_reads_by_ocr_with_pages_and_the_same_clauses(tmp_path):
    """A 2-page 红头 notice exported to PDF, printed and scanned at 200 dpi (an image-only PDF): OCR gives
    its identity and the typed original's labels, paths and texts (ignoring whitespace), the citation
    says the text was recognised and on which page."""
    from rag.citing.cite import citation
    from rag.storage.store import DocInfo
    from tests import bench_formats as bf

    lines = bf.notice_lines(1)
    (tmp_path / "n.txt").write_text(gw.text(lines), encoding="utf-8")
    auto = bf.word(lines, tmp_path / "n-auto.docx", auto=True)
    (pdf,) = gw.lo_convert([auto], "pdf", tmp_path)
    scan, _ = bf.scans(pdf, tmp_path)
    ref, doc = load_file(tmp_path / "n.txt"), load_file(scan)
    assert doc.ocr and len(doc.pages) == 2 and _ident(doc) == _ident(ref)
    want = [(c.label, c.headings, _ws(c.text)) for c in split_document(ref)]
    got = [(c.label, c.headings, _ws(c.text)) for c in split_document(doc)]
    assert got == want
    last = split_document(doc)[-1]
    info = DocInfo.from_document(doc, len(got))
    assert info.page_of(last.start) == 2 and "第2页，文字经OCR识别" in citation(info, last)
