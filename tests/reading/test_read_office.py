"""Old Word .doc and WPS .wps through LibreOffice: the same lines as the .docx they came from.

The fixtures are made once per module with LibreOffice itself: python-docx writes a short
公文-style .docx (typed 一、（一）1. numbering and a table) and one with Word automatic
numbering, `soffice --convert-to doc` turns them into Word 97 files, and the .wps is the
.doc under a .wps name (LibreOffice has no Kingsoft WPS export filter; its Word 97 filter
is the one that imports Kingsoft .wps files).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from rag.reading.readers import ReaderUnavailable, office, reader_for
from rag.reading.readers.word import read_docx

TITLE = "关于做好2024年度安全生产工作的通知"
LINES = [
    TITLE,
    "某政发〔2024〕3号",
    "各区县人民政府，市政府各部门：",
    "一、总体要求",
    "（一）坚持安全第一、预防为主、综合治理的方针，压实各方责任。",
    "1. 各单位主要负责人是本单位安全生产第一责任人。",
    "2. 分管负责人对分管领域安全生产工作负直接领导责任。",
    "二、重点任务",
    "序号\t任务\t牵头单位",
    "序号：1；任务：隐患排查；牵头单位：市应急局",
    "序号：2；任务：专项整治；牵头单位：市住建局",
    "三、工作要求",
    "本通知自印发之日起施行。",
]
# (text, list level) of the automatically numbered document: 一、 / （一） / 1.
AUTO = [
    ("总体要求", 0),
    ("指导思想", 1),
    ("坚持问题导向。", 2),
    ("坚持系统观念。", 2),
    ("基本原则", 1),
    ("重点任务", 0),
]
AUTO_LEVELS = {0: "%1、", 1: "（%2）", 2: "%3."}

needs_lo = pytest.mark.skipif(office.available() is not None, reason="LibreOffice (soffice) not installed")


def fake_ole(*streams: str) -> bytes:
    """A minimal OLE compound file image: the signature, a header sector, directory entries named `streams`."""
    head = office.OLE_MAGIC + bytes(512 - len(office.OLE_MAGIC))
    entries = b""
    for name in ("Root Entry", *streams):
        raw = (name + "\0").encode("utf-16-le")
        kind = 5 if name == "Root Entry" else 2
        entries += raw.ljust(64, b"\0") + len(raw).to_bytes(2, "little") + bytes([kind]) + bytes(61)
    return head + entries


def typed_docx() -> bytes:
    """The 公文-style text with typed numbering and a table."""
    d = Document()
    d.core_properties.title = TITLE
    for line in LINES[:8]:
        d.add_paragraph(line)
    rows = [["序号", "任务", "牵头单位"], ["1", "隐患排查", "市应急局"], ["2", "专项整治", "市住建局"]]
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for line in LINES[11:]:
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def auto_docx() -> bytes:
    """Items numbered by Word's automatic numbering (chineseCounting 一、 and （一）, decimal 1.)."""
    d = Document()
    w = nsdecls("w")
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{"decimal" if i == 2 else "chineseCounting"}"/>'
        f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/></w:lvl>'
        for i, text in AUTO_LEVELS.items()
    )
    numbering = d.part.numbering_part.element
    numbering.insert(0, parse_xml(f'<w:abstractNum {w} w:abstractNumId="90">{levels}</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    d.add_paragraph("关于印发某办法的通知")
    for text, level in AUTO:
        p = d.add_paragraph(text)
        p._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {w}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>')
        )
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def soffice_convert(files: list[Path], fmt: str, outdir: Path) -> None:
    """Convert files with LibreOffice (the test's own fixture maker, not the code under test)."""
    profile = (outdir / "profile").as_uri()
    cmd = [office.soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
           "--convert-to", fmt, "--outdir", str(outdir), *map(str, files)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """policy.docx/.doc/.wps/.rtf and auto.docx/.doc, made once."""
    if office.available() is not None:
        pytest.skip("LibreOffice (soffice) not installed")
    d = tmp_path_factory.mktemp("office")
    (d / "policy.docx").write_bytes(typed_docx())
    (d / "auto.docx").write_bytes(auto_docx())
    soffice_convert([d / "policy.docx", d / "auto.docx"], "doc", d)
    soffice_convert([d / "policy.docx"], "rtf", d)
    wps = d / "政策 'a;b' $(x).wps"  # odd name: must never reach a command line unquoted
    shutil.copy(d / "policy.doc", wps)
    return {"docx": d / "policy.docx", "doc": d / "policy.doc", "wps": wps, "rtf": d / "policy.rtf",
            "auto_docx": d / "auto.docx", "auto_doc": d / "auto.doc"}  # fmt: skip


def read(path: Path, as_name: str | None = None):
    """Read a file through the registry, as if it were called `as_name`."""
    data = path.read_bytes()
    name = Path(as_name or path.name)
    return reader_for(name, data).read(name, data)


def test_sniff_tells_word_from_other_ole():
    assert office.sniff(fake_ole("WordDocument", "1Table"))
    assert not office.sniff(fake_ole("Workbook"))
    assert not office.sniff(fake_ole("PowerPoint Document"))
    assert not office.sniff(b"PK\x03\x04 not ole")
    assert not office.sniff(office.OLE_MAGIC + bytes(2048))  # OLE, but no WordDocument entry


def test_other_ole_files_refused_clearly():
    with pytest.raises(ValueError, match="is an Excel workbook, not a Word/WPS document"):
        office.read_office(Path("表格.doc"), fake_ole("Workbook"))
    with pytest.raises(ValueError, match="PowerPoint"):
        office.read_office(Path("x.wps"), fake_ole("PowerPoint Document"))


def test_without_libreoffice(monkeypatch):
    monkeypatch.setattr(office.shutil, "which", lambda name: None)
    assert office.available() == office.INSTALL_HINT
    assert "apt-get install libreoffice-writer-nogui" in office.INSTALL_HINT
    with pytest.raises(ReaderUnavailable, match="needs LibreOffice"):
        office.read_office(Path("a.doc"), fake_ole("WordDocument"))


@needs_lo
def test_doc_reads_like_its_docx(made):
    original = read_docx(made["docx"], made["docx"].read_bytes())
    assert original.text.split("\n") == LINES
    got = read(made["doc"])
    assert reader_for(made["doc"], made["doc"].read_bytes()).name == "doc"
    assert got.text == original.text
    assert got.text.split("\n") == LINES  # the table's header TAB-joined, its rows "列名：值；…"
    assert got.title == TITLE  # from core.xml: LibreOffice's relationship type hides it from python-docx


@needs_lo
def test_wps_with_odd_name_reads_like_doc(made):
    got = read(made["wps"])
    assert got.text.split("\n") == LINES
    assert got.title == TITLE


@needs_lo
def test_automatic_numbering_survives_conversion(made):
    """The .doc's list numbering reaches read_docx as list numbering, the same levels and labels."""
    docx = office.convert_to_docx(made["auto_doc"], made["auto_doc"].read_bytes())
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        body, numbering = z.read("word/document.xml").decode(), z.read("word/numbering.xml").decode()
    assert body.count("<w:numPr>") == len(AUTO)
    for text in AUTO_LEVELS.values():
        assert f'w:lvlText w:val="{text}"' in numbering
    assert "CountingThousand" in numbering or "chineseCounting" in numbering  # LibreOffice writes taiwanese...
    original = read_docx(made["auto_docx"], made["auto_docx"].read_bytes())
    assert read(made["auto_doc"]).text == original.text


@needs_lo
def test_renamed_files_are_routed_by_content(made):
    data_doc, data_docx = made["doc"].read_bytes(), made["docx"].read_bytes()
    assert reader_for("really-a-doc.docx", data_doc).name == "doc"
    assert reader_for("really-a-docx.doc", data_docx).name == "docx"
    assert reader_for("really-a-docx.wps", data_docx).name == "docx"
    assert read(made["doc"], "really-a-doc.docx").text.split("\n") == LINES
    assert read(made["docx"], "really-a-docx.doc").text.split("\n") == LINES


@needs_lo
def test_rtf_saved_as_doc_is_converted(made):
    """Many sites serve RTF under a .doc name: no sniff claims it, the suffix sends it here, LibreOffice reads it."""
    assert read(made["rtf"], "通知.doc").text.split("\n") == LINES


@needs_lo
def test_broken_doc_reports_libreoffice_reason():
    with pytest.raises(ValueError, match="LibreOffice could not convert broken.doc .*could not be loaded"):
        office.read_office(Path("broken.doc"), office.OLE_MAGIC + bytes(4096))


@needs_lo
def test_conversion_timeout_kills_libreoffice(made):
    started = time.monotonic()
    with pytest.raises(ValueError, match="did not finish converting policy.doc within 0.01 s"):
        office.convert_to_docx(made["doc"], made["doc"].read_bytes(), timeout=0.01)
    assert time.monotonic() - started < 10
