"""The folder check of #19 ("every file in a folder of all the new formats is indexed or named with
its reason"): `rag ingest --embedder hash` on one folder of workbooks (.xlsx, .xlsm, .xls, .et, .csv),
decks (.pptx, .ppt, .dps) and saved pages (.mht, .mhtml), made by the tests' own fixture makers
(openpyxl, python-pptx, LibreOffice), and of broken ones: a truncated .xlsx, an empty .csv, an
encrypted package named .xls, a cut-off .pptx and a deck with no text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pptx import Presentation

from rag.reading.readers import office
from rag.storage.index import ClauseIndex
from tests import webgen
from tests.conftest import run_cli
from tests.reading.test_read_mht import pack
from tests.reading.test_read_office import fake_ole
from tests.reading.test_read_sheet import task_workbook
from tests.reading.test_read_slides import BLANK, build_deck, soffice_convert

GOOD = {
    "分工.xlsx": "xlsx", "分工.xlsm": "xlsx", "分工.xls": "xls", "分工.et": "xls", "分工.csv": "csv",
    "培训.pptx": "slides", "培训.ppt": "slides", "培训.dps": "slides", "通知.mht": "mht", "政策.mhtml": "mht",
}  # fmt: skip
BAD = {
    "截断.xlsx": "截断.xlsx: not a readable zip archive",
    "空.csv": "empty file",
    "加密.xls": "an encrypted (password-protected) workbook",
    "断开.pptx": "断开.pptx: not a readable zip archive",
    "空白.pptx": "no text on any slide (1 slide; pictures only?)",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    if office.available() is not None:
        pytest.skip("LibreOffice (soffice) not installed: the .xls and .ppt fixtures are saved by it")
    work = tmp_path_factory.mktemp("made")
    lib = tmp_path_factory.mktemp("library")
    xlsx = task_workbook(lib / "分工.xlsx")
    shutil.copy(xlsx, lib / "分工.xlsm")
    xls = soffice_convert(xlsx, "xls", work)
    shutil.copy(xls, lib / "分工.xls")
    shutil.copy(xls, lib / "分工.et")
    (lib / "分工.csv").write_bytes("重点任务,责任单位,完成时限\n河道清淤,水利局,2024年6月底前\n".encode("gb18030"))
    deck = build_deck(lib / "培训.pptx")
    ppt = soffice_convert(deck, "ppt", work)
    shutil.copy(ppt, lib / "培训.ppt")
    shutil.copy(ppt, lib / "培训.dps")
    (lib / "通知.mht").write_bytes(pack(webgen.NOTICE.data(), "gbk"))
    (lib / "政策.mhtml").write_bytes(pack(webgen.GOV_CN.data(), "utf-8", cte="base64"))
    data = xlsx.read_bytes()
    (lib / "截断.xlsx").write_bytes(data[: len(data) // 2])
    (lib / "空.csv").write_bytes(b"")
    (lib / "加密.xls").write_bytes(fake_ole("EncryptedPackage", "EncryptionInfo"))
    (lib / "断开.pptx").write_bytes(b"PK\x03\x04 cut off in the download")
    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[BLANK])
    prs.save(lib / "空白.pptx")
    return lib


def test_every_file_is_indexed_or_named_with_its_reason(folder, tmp_path, capsys):
    index = tmp_path / "index"
    rc, out, err = run_cli(capsys, "ingest", str(folder), "--index", str(index), "--embedder", "hash", "-q")
    assert rc == 0, err
    assert sorted(p.name for p in folder.iterdir()) == sorted([*GOOD, *BAD])  # nothing else in the folder
    assert f"indexed {len(GOOD)} documents" in out and f"; {len(BAD)} files not indexed" in out
    named = {}
    for line in err.splitlines():
        if line.startswith("  not indexed: "):
            source, reason = line.removeprefix("  not indexed: ").split(": ", 1)
            named[Path(source).name] = reason
    assert named.keys() == BAD.keys()
    for name, reason in BAD.items():
        assert named[name].startswith(reason), (name, named[name])
    docs = ClauseIndex.load(index).docs.values()
    assert sorted((Path(d.source).name, d.kind) for d in docs) == sorted(GOOD.items())
    clauses = ClauseIndex.load(index)
    rows = {Path(d.source).name: [c.label for c in clauses.doc_clauses(d.doc_id)] for d in docs}
    assert rows["分工.xlsx"][:3] == rows["分工.xls"][:3] == rows["分工.et"][:3] == ["序号 1", "序号 2", "序号 3"]
    assert rows["分工.csv"] == ["第1行"]
