""".mht/.mhtml: a page saved as one MIME file reads exactly like the same page saved as .html.

The fixtures are the web reader's pages (tests/webgen.py) packed by the standard library's
`email` package the way browsers save them: multipart/related, the page quoted-printable or
base64 with its charset on the part, an image and a style sheet beside it.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from rag.citing.cite import citation
from rag.reading.load import load_file
from rag.reading.readers import mht, reader_for, web
from rag.storage.store import DocInfo
from rag.text.split import split_document
from tests import webgen

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def pack(html: bytes, charset: str | None, cte: str = "quoted-printable", page_first: bool = True) -> bytes:
    """A saved page: multipart/related holding the page (root), an image and a style sheet.

    `page_first` False puts the image first and names the page by the `start` parameter, as
    some savers do.
    """
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "<Saved by Blink>"
    msg["Snapshot-Content-Location"] = "http://mzj.example.gov.cn/tzgg/2023/0926.html"
    msg["Subject"] = "白水市民政局"
    msg["MIME-Version"] = "1.0"
    page = EmailMessage(policy=SMTP)
    params = {"charset": charset} if charset else {}
    page.set_content(html, "text", "html", cte=cte, params=params, cid="<page@mhtml.blink>")
    del page["MIME-Version"]
    page["Content-Location"] = "http://mzj.example.gov.cn/tzgg/2023/0926.html"
    image = EmailMessage(policy=SMTP)
    image.set_content(PNG, "image", "png", cid="<logo@mhtml.blink>")
    css = EmailMessage(policy=SMTP)
    css.set_content(b"body{font-size:14px}", "text", "css", cte="quoted-printable")
    parts = [page, image, css] if page_first else [image, css, page]
    msg.make_mixed()
    msg.set_type("multipart/related")
    if not page_first:
        msg.set_param("start", "<page@mhtml.blink>")
    msg.set_param("type", "text/html")
    for p in parts:
        msg.attach(p)
    return msg.as_bytes()


def _same(a, b) -> None:
    assert (a.text, a.title, a.meta, a.encoding) == (b.text, b.title, b.meta, b.encoding)


def test_gbk_page_reads_like_the_html():
    page = webgen.NOTICE  # <br>-separated body, GBK, charset on the part and in <meta>
    data = pack(page.data(), "gbk")
    assert b"charset=\"gbk\"" in data or b"charset=gbk" in data
    got = mht.read_mht(Path("notice.mht"), data)
    _same(got, web.read_html(Path("notice.html"), page.data()))
    assert got.text.split("\n") == list(page.body)
    assert got.encoding == "gb18030"
    assert got.title == "白水市民政局关于开展2023年“敬老月”活动的通知"


def test_utf8_page_base64_rooted_by_start_reads_like_the_html():
    page = webgen.GOV_CN  # gov.cn policy library page: 信息公开 box, a table, attachments
    data = pack(page.data(), "utf-8", cte="base64", page_first=False)
    got = mht.read_mht(Path("policy.mhtml"), data)
    _same(got, web.read_html(Path("policy.html"), page.data()))
    assert got.text.split("\n") == list(page.body)
    assert got.meta == page.meta
    assert got.title == page.title


def test_part_charset_decides_over_a_wrong_meta():
    # a GBK page whose <meta> says big5 (copied from another site's template): the .html reader
    # believes the <meta>; the part's charset is what the saved bytes are
    html = '<html><head><meta charset="big5"><title>通知</title></head><body><p>一、弘扬敬老孝老助老社会风尚。</p>'
    assert web.read_html(Path("x.html"), html.encode("gbk")).text != "一、弘扬敬老孝老助老社会风尚。"
    got = mht.read_mht(Path("x.mht"), pack(html.encode("gbk"), "gbk"))
    assert (got.text, got.title, got.encoding) == ("一、弘扬敬老孝老助老社会风尚。", "通知", "gb18030")


def test_no_or_wrong_part_charset_falls_back_to_detection():
    html = webgen.NOTICE.data()  # GBK bytes, <meta charset=gbk>
    for charset in (None, "utf-8", "no-such-charset"):
        got = mht.read_mht(Path("x.mht"), pack(html, charset))
        assert got.text.split("\n") == list(webgen.NOTICE.body), charset
        assert got.encoding == "gb18030"


@pytest.mark.parametrize("page", webgen.PAGES, ids=lambda p: p.name)
def test_loaded_document_and_clauses_match_the_html(tmp_path, page):
    charset = {"gb18030": "gb2312"}.get(page.encoding, page.encoding)  # GB18030 pages declare gb2312
    mht_path = tmp_path / f"{page.name}.mht"
    mht_path.write_bytes(pack(page.data(), charset))
    doc, ref = load_file(mht_path), load_file(page.write(tmp_path))
    assert doc.kind == "mht"
    assert (doc.title, doc.doc_number, doc.issuer, doc.date, doc.meta, doc.text) == (
        ref.title, ref.doc_number, ref.issuer, ref.date, ref.meta, ref.text,
    )  # fmt: skip
    assert [(c.headings, c.label, c.text) for c in split_document(doc)] == [
        (c.headings, c.label, c.text) for c in split_document(ref)
    ]


def test_notice_clauses_and_citation(tmp_path):
    page = webgen.NOTICE
    f = tmp_path / "notice.mht"
    f.write_bytes(pack(page.data(), "gbk"))
    doc = load_file(f)
    clauses = split_document(doc)
    assert [(c.headings, c.label, c.text) for c in clauses[-2:]] == [
        ((), "一、", "一、活动主题\n关爱老年人，弘扬敬老孝老助老社会风尚。"),
        ((), "二、", "二、活动时间\n2023年10月1日至31日。"),
    ]
    assert (doc.title, doc.date) == ("白水市民政局关于开展2023年“敬老月”活动的通知", "2023-09-26")
    info = DocInfo.from_document(doc, len(clauses))
    assert citation(info, clauses[-1]) == f"《{page.title}》 › 二、（2023-09-26）"


def test_sniffed_by_content_whatever_the_suffix():
    data = pack(webgen.NOTICE.data(), "gbk")
    assert mht.sniff(data)
    for name in ("a.mht", "a.mhtml", "a.html", "a.doc"):
        assert reader_for(name, data).name == "mht", name
    assert not mht.sniff(webgen.NOTICE.data())
    assert not web.sniff(data)
    plain_mail = b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nmultipart/related\r\n"
    assert not mht.sniff(plain_mail)


def test_no_html_part_is_a_clear_error(tmp_path):
    msg = EmailMessage(policy=SMTP)
    msg["MIME-Version"] = "1.0"
    msg.set_content(PNG, "image", "png")
    msg.make_related()
    f = tmp_path / "pic.mht"
    f.write_bytes(msg.as_bytes())
    with pytest.raises(ValueError, match=r"no text/html part in the MIME file \(parts: image/png\)"):
        load_file(f)


def test_frameset_page_read_from_its_framed_page():
    frames = b'<html><head><title>x</title></head><frameset cols="20%,80%"><frame src="menu.htm"></frameset></html>'
    msg = EmailMessage(policy=SMTP)
    msg["MIME-Version"] = "1.0"
    msg.set_content(frames, "text", "html", cte="quoted-printable", params={"charset": "utf-8"})
    msg.make_related()
    framed = EmailMessage(policy=SMTP)
    framed.set_content(webgen.NOTICE.data(), "text", "html", cte="base64", params={"charset": "gbk"})
    msg.attach(framed)
    got = mht.read_mht(Path("frames.mht"), msg.as_bytes())
    assert got.text.split("\n") == list(webgen.NOTICE.body)
