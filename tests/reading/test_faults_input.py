"""Hostile and broken input: legacy encodings, odd folders, zip bombs, uploads that do not parse.

Every skipped path is named with its reason, nothing crashes a batch, and nothing that fails
to parse stays in the library.
"""

from __future__ import annotations

import errno
import io
import os
import time
import zipfile
from pathlib import Path

import docx
import pytest

import rag.reading.load
from rag.interfaces.upload import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, UploadError, check_content, store
from rag.reading.load import MAX_FILE_BYTES, load_file, load_paths, resolve_path, scan
from rag.reading.readers import base, ofd, word
from rag.reading.readers.base import MAX_ZIP_UNPACKED, check_zip
from rag.reading.readers.plain import decode_bytes
from rag.reading.readers.web import decode_html
from tests.ofdgen import LEFT, Code, Obj, build_ofd, page_xml

# ------------------------------------------------------------------ encodings

TRAD = (
    "第一條 為規範行政機關公文處理工作，使公文處理工作規範化、制度化、科學化，制定本條例。\n"
    "第二條 本條例適用於各級黨政機關公文處理工作。\n"
    "第三條 黨政機關公文是黨政機關實施領導、履行職能、處理公務的具有特定效力和規範體式的文書。\n"
)
JAPANESE = (
    "第一条 この規則は、行政機関における文書の取扱いに関し必要な事項を定めるものとする。\n"
    "第二条 各行政機関の長は、文書の適正な管理に努めなければならない。\n"
    "第三条 文書は、正確かつ迅速に処理しなければならない。\n"
)
KOREAN = (
    "제1조 이 규정은 행정기관의 공문서 처리에 관하여 필요한 사항을 정함을 목적으로 한다.\n"
    "제2조 모든 행정기관은 공문서를 정확하고 신속하게 처리하여야 한다.\n"
)
SIMPLIFIED = (
    "第一条 为规范党政机关公文处理工作，使公文处理工作规范化、制度化、科学化，制定本条例。\n"
    "第二条 本条例适用于各级党政机关公文处理工作。\n"
    "第三条 党政机关公文是党政机关实施领导、履行职能、处理公务的具有特定效力和规范体式的文书。\n"
)


@pytest.mark.parametrize(
    "text,codec,expected",
    [
        (TRAD, "big5", "big5"),
        (JAPANESE, "shift_jis", "cp932"),  # the detector names Microsoft's superset of Shift-JIS
        (KOREAN, "euc_kr", "cp949"),
        (TRAD, "utf-16-le", "utf_16_le"),  # no BOM
        (SIMPLIFIED, "utf-16-be", "utf_16_be"),  # no BOM
        (SIMPLIFIED, "gbk", "gb18030"),  # GB family: widened to GB18030
    ],
)
def test_legacy_encodings_decoded_with_the_detected_encoding(text, codec, expected):
    decoded, encoding = decode_bytes(text.encode(codec))
    assert decoded == text
    assert encoding == expected


def test_gb18030_widening_keeps_rare_characters():
    text = SIMPLIFIED + "第四条 㐀䶵𠀀等扩展字符照常显示。\n"
    decoded, encoding = decode_bytes(text.encode("gb18030"))
    assert (decoded, encoding) == (text, "gb18030")


def test_big5_file_loads_as_written(tmp_path):
    f = tmp_path / "條例.txt"
    f.write_bytes(TRAD.encode("big5"))
    doc = load_file(f)
    assert doc.text == TRAD and doc.encoding == "big5"


def test_web_pages_use_the_same_rule():
    body = "".join(f"<p>{line}</p>\n" for line in TRAD.splitlines())
    page = f"<html><head><title>條例</title></head><body>{body}</body></html>"
    text, encoding = decode_html(page.encode("big5"))
    assert encoding == "big5" and TRAD.splitlines()[0] in text
    body_s = "".join(f"<p>{line}</p>\n" for line in SIMPLIFIED.splitlines())
    declared = f'<html><head><meta charset="gb2312"></head><body>{body_s}</body></html>'
    text, encoding = decode_html(declared.encode("gb18030"))
    assert encoding == "gb18030" and SIMPLIFIED.splitlines()[0] in text


# ------------------------------------------------------------------ zip bombs


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _docx_bytes(*paras: str) -> bytes:
    d = docx.Document()
    for para in paras:
        d.add_paragraph(para)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _bomb_docx() -> bytes:
    """A small .docx whose document.xml unpacks to ~3 MB of clauses (about 20,000 of them)."""
    para = "<w:p><w:r><w:t>第一条 为了规范管理，制定本办法。</w:t></w:r></w:p>"
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + para * 20_000
        + "</w:body></w:document>"
    ).encode()
    with zipfile.ZipFile(io.BytesIO(_docx_bytes("x"))) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["word/document.xml"] = xml
    return _zip(members)


def _bomb_ofd() -> bytes:
    page = page_xml([Obj([Code(LEFT, 50, "正文。")])])
    return build_ofd([page], replace={"Doc_0/Res/pad.xml": b"<a/>" + b" " * (4 * 1024 * 1024)})


def test_check_zip_accepts_real_packages():
    check_zip(_docx_bytes("一、总则", "第一条 本办法。"))
    check_zip(build_ofd([page_xml([Obj([Code(LEFT, 50, "正文。")])])]))


@pytest.mark.parametrize(
    "members,reason",
    [
        ({"a.xml": b"<a/>", "../evil.xml": b"x"}, "leaves the archive"),
        ({"/etc/passwd": b"x"}, "absolute member path"),
        ({"C:/x.xml": b"x"}, "absolute member path"),
        ({"a\x01.xml": b"x"}, "control character"),
        ({"doc.xml": b" " * (2 * 1024 * 1024)}, "zip bomb refused: doc.xml unpacked size .* times its packed size"),
        ({f"p{i}.xml": b" " * (60 * 1024 * 1024) for i in range(2)}, "zip bomb refused"),
    ],
    ids=["dotdot", "absolute", "drive", "control", "ratio", "total"],
)
def test_check_zip_refuses(members, reason):
    data = _zip(members)
    with pytest.raises(ValueError, match=reason):
        check_zip(data, "x.docx")


def test_check_zip_member_count_and_total(monkeypatch):
    monkeypatch.setattr(base, "MAX_ZIP_MEMBERS", 3)
    with pytest.raises(ValueError, match="5 members, over the limit of 3"):
        check_zip(_zip({f"m{i}": b"x" for i in range(5)}))
    monkeypatch.setattr(base, "MAX_ZIP_UNPACKED", 1000)
    with pytest.raises(ValueError, match="over limit"):
        check_zip(_zip({"a": os.urandom(600), "b": os.urandom(600)}, zipfile.ZIP_STORED))
    with pytest.raises(ValueError, match="not a readable zip"):
        check_zip(b"PK\x03\x04 truncated")


def test_readers_share_the_zip_rule():
    assert word.MAX_TOTAL_BYTES == ofd.MAX_TOTAL_BYTES == MAX_ZIP_UNPACKED
    started = time.monotonic()
    with pytest.raises(ValueError, match="zip bomb"):
        word.read_docx(Path("bomb.docx"), _bomb_docx())
    with pytest.raises(ValueError, match="broken OFD: zip bomb"):
        ofd.read_ofd(Path("bomb.ofd"), _bomb_ofd())
    assert time.monotonic() - started < 5


# ------------------------------------------------------------------ folders


def _unreadable(monkeypatch, folder: Path) -> None:
    """Make `folder` unreadable to os.walk (chmod does not stop root, so the refusal is simulated)."""
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(folder):
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_a_hostile_folder_lists_every_skip_and_loads_the_rest(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    (lib / "locked").mkdir()
    (lib / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (lib / "sub" / "good.docx").write_bytes(
        _docx_bytes("第一条 为了规范管理，制定本办法。", "第二条 本办法自公布之日起施行。")
    )
    (lib / "locked" / "hidden.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (lib / "empty.txt").write_bytes(b"")
    (lib / "blank.txt").write_text("   \n\n", encoding="utf-8")
    (lib / "big.txt").write_text(SIMPLIFIED * 1000, encoding="utf-8")  # ~170 KB
    (lib / "bomb.docx").write_bytes(_bomb_docx())
    (lib / "bomb.ofd").write_bytes(_bomb_ofd())
    (lib / "fake.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf at all\n")
    (lib / "loop_a").symlink_to("loop_b")
    (lib / "loop_b").symlink_to("loop_a")
    (lib / "self.txt").symlink_to("self.txt")
    (lib / "sub" / "up").symlink_to("..")
    (lib / "sub" / "root").symlink_to(lib)
    (lib / "dangling.txt").symlink_to("nowhere.txt")
    (lib / ".upload-1-abcd-x.txt").write_text(SIMPLIFIED, encoding="utf-8")
    monkeypatch.setattr(rag.reading.load, "MAX_FILE_BYTES", 100_000)
    _unreadable(monkeypatch, lib / "locked")

    started = time.monotonic()
    docs, errors = load_paths([lib, lib / "loop_a", tmp_path / "missing"])
    assert time.monotonic() - started < 10
    assert sorted(Path(d.source).name for d in docs) == ["good.docx", "good.txt"]
    reasons = {Path(e.source).relative_to(tmp_path).as_posix(): e.reason for e in errors}
    expected = {
        "lib/locked": "folder cannot be read",
        "lib/empty.txt": "empty file",
        "lib/blank.txt": "no text could be extracted",
        "lib/big.txt": "MB, over the 0 MB limit",
        "lib/bomb.docx": "zip bomb refused",
        "lib/bomb.ofd": "zip bomb refused",
        "lib/fake.pdf": "not a readable PDF",
        "lib/loop_a": "symbolic link loop",
        "lib/loop_b": "symbolic link loop",
        "lib/self.txt": "symbolic link loop",
        "lib/sub/up": "symbolic link to a parent folder",
        "lib/sub/root": "symbolic link to a parent folder",
        "lib/dangling.txt": "broken symbolic link",
        "lib/.upload-1-abcd-x.txt": "upload still being checked",
        "missing": "no such file or folder",
    }
    for source, reason in expected.items():
        assert reason in reasons.get(source, ""), (source, reasons.get(source))
    assert set(reasons) == set(expected)


def test_a_loop_given_as_a_path_is_listed_not_raised(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    files, skipped = scan([tmp_path / "a"])
    assert files == [] and [s.reason for s in skipped] == ["symbolic link loop (not followed)"]
    assert resolve_path(tmp_path / "a") == tmp_path / "a"  # Path.resolve raises here on Python 3.11
    with pytest.raises(ValueError, match="symbolic link loop"):
        load_file(tmp_path / "a")


def test_a_file_that_disappears_is_listed(tmp_path, monkeypatch):
    (tmp_path / "kept.txt").write_text(SIMPLIFIED, encoding="utf-8")
    real_walk = os.walk

    def walk(top, *args, **kwargs):
        for root, dirs, names in real_walk(top, *args, **kwargs):
            yield root, dirs, [*names, "gone.txt"]  # listed by the walk, deleted before it is examined

    monkeypatch.setattr(os, "walk", walk)
    files, skipped = scan([tmp_path])
    assert [f.name for f in files] == ["kept.txt"]
    assert [(Path(s.source).name, s.reason) for s in skipped] == [("gone.txt", "disappeared during the scan")]
    with pytest.raises(ValueError, match="disappeared before it could be read"):
        load_file(tmp_path / "gone.txt")


def test_the_file_limit_is_stated_in_mb():
    assert MAX_FILE_BYTES == 50 * 2**20


# ------------------------------------------------------------------ uploads


def _nothing_left(lib: Path) -> bool:
    return not lib.exists() or not any(lib.iterdir())


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("fake.pdf", b"%PDF-1.4\n" + b"garbage " * 200, "fake.pdf: cannot be read: not a readable PDF"),
        ("scan.pdf", b"\x7fELF" * 100, "not a PDF file"),
        ("bomb.docx", "bomb-docx", "zip bomb refused"),
        ("bomb.ofd", "bomb-ofd", "zip bomb refused"),
        ("broken.docx", "broken-docx", "broken.docx: cannot be read"),
        ("blank.txt", b"   \n \n", "no text could be extracted"),
    ],
)
def test_upload_that_does_not_parse_leaves_nothing(tmp_path, name, data, reason):
    if data == "bomb-docx":
        data = _bomb_docx()
    elif data == "bomb-ofd":
        data = _bomb_ofd()
    elif data == "broken-docx":
        data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document><unclosed>"})
    lib = tmp_path / "lib"
    with pytest.raises(UploadError, match=reason):
        store(lib, name, data)
    assert _nothing_left(lib), list(lib.iterdir())


def test_upload_stores_a_good_file_and_no_temporary(tmp_path):
    lib = tmp_path / "lib"
    p = store(lib, "條例.txt", TRAD.encode("big5"))
    assert p.read_bytes() == TRAD.encode("big5")
    assert [f.name for f in lib.iterdir()] == ["條例.txt"]


def test_upload_limit_message_says_20_mb():
    assert MAX_UPLOAD_BYTES == 20 * 1024 * 1024 and MAX_UPLOAD_MB == 20
    with pytest.raises(UploadError, match=r"over the 20 MB limit"):
        check_content("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1))


def test_upload_bomb_hidden_behind_incompressible_padding_is_refused(tmp_path):
    """The archive as a whole is under the ratio limit (random padding), one member is not."""
    with zipfile.ZipFile(io.BytesIO(_docx_bytes("x"))) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["word/media/pad.bin"] = os.urandom(400_000)
    members["word/document.xml"] = members["word/document.xml"] + b" " * (30 * 1024 * 1024)
    data = _zip(members)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert unpacked < base.MAX_ZIP_RATIO * len(data)  # the old whole-archive rule let this through
    lib = tmp_path / "lib"
    with pytest.raises(UploadError, match="word/document.xml unpacked size .* times its packed size"):
        store(lib, "padded.docx", data)
    assert _nothing_left(lib)


def test_upload_names_fit_the_file_system(tmp_path):
    long = "关于加强市场监管工作的通知" * 20 + ".txt"  # 780 bytes of UTF-8
    p = store(tmp_path / "lib", long, SIMPLIFIED.encode())
    assert p.suffix == ".txt" and len(p.name.encode()) <= 255 and p.read_bytes() == SIMPLIFIED.encode()
    assert store(tmp_path / "lib", "坏\udcff名.txt", SIMPLIFIED.encode()).name == "坏_名.txt"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any folder")
def test_a_real_unreadable_folder_is_listed(tmp_path):
    (tmp_path / "ok.txt").write_text(SIMPLIFIED, encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.txt").write_text(SIMPLIFIED, encoding="utf-8")
    locked.chmod(0)
    try:
        docs, errors = load_paths([tmp_path])
    finally:
        locked.chmod(0o755)
    assert [Path(d.source).name for d in docs] == ["ok.txt"]
    assert [(e.source, e.reason.split(":")[0]) for e in errors] == [(str(locked), "folder cannot be read")]
