from __future__ import annotations

import zipfile

import pytest

from rag.reading.load import decode_bytes, find_date, find_doc_number, load_file, load_paths

TEXT = (
    "关于加强市场监管工作的通知\n"
    "市监发〔2023〕12号\n"
    "各区市场监管局：\n"
    "一、强化监管执法\n"
    "1.双随机抽查比例不低于5%。\n"
    "2.抽查结果全部公示。\n"
    "某某市市场监督管理局\n"
    "2023年3月1日\n"
)


@pytest.mark.parametrize(
    "encoding,prefix",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),  # UTF-8 with BOM
        ("gb18030", b""),
        ("gbk", b""),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
    ],
)
def test_encodings_detected_not_assumed(tmp_path, encoding, prefix):
    f = tmp_path / f"notice-{encoding}.txt"
    f.write_bytes(prefix + TEXT.encode(encoding))
    doc = load_file(f)
    assert doc.text == TEXT
    assert doc.title == "关于加强市场监管工作的通知"
    assert doc.doc_number == "市监发〔2023〕12号"
    assert doc.date == "2023-03-01"


def test_gbk_without_hint_longer_text():
    text, enc = decode_bytes(("第一条 为了规范行政执法行为，保护公民合法权益，制定本办法。\n" * 5).encode("gbk"))
    assert enc == "gb18030" and text.startswith("第一条 为了规范")


def test_metadata_helpers():
    assert find_doc_number("民政部关于…的意见（民发〔2021〕76号）") == "民发〔2021〕76号"
    assert find_doc_number("2011年4月16日 中华人民共和国国务院令第596号公布") == "中华人民共和国国务院令第596号"
    assert find_date("时间:2022-06-18 12:35:06") == "2022-06-18"
    assert find_date("没有日期") is None


def test_markdown_lawrefbook_header(tmp_path):
    f = tmp_path / "某某条例(2020-01-02).md"
    f.write_text("# 某某条例\n\n2019年1月1日 国务院令第700号公布\n\n<!-- INFO END -->\n\n第一条 目的。\n", "utf-8")
    doc = load_file(f)
    assert (doc.title, doc.date, doc.doc_number, doc.issuer) == (
        "某某条例",
        "2020-01-02",
        "国务院令第700号",
        "国务院",
    )


def test_html(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>站点 - 通知</title><script>var x='不应出现';</script></head>"
        "<body><h1>关于开展检查的通知</h1><p>一、检查范围</p><p>1.全部企业。</p></body></html>",
        encoding="gb18030",
    )
    doc = load_file(f)
    assert doc.title == "关于开展检查的通知"
    assert "不应出现" not in doc.text
    assert doc.text.splitlines() == ["关于开展检查的通知", "一、检查范围", "1.全部企业。"]


def test_docx(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "年度工作要点"
    d.add_paragraph("一、总体要求")
    d.add_paragraph("1.坚持依法行政。")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "指标"
    t.cell(0, 1).text = "90%"
    f = tmp_path / "plan.docx"
    d.save(f)
    doc = load_file(f)
    assert doc.title == "年度工作要点"
    assert doc.text.splitlines() == ["一、总体要求", "1.坚持依法行政。", "指标\t90%"]


def test_pdf_with_cjk_font(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    f = tmp_path / "rule.pdf"
    c = canvas.Canvas(str(f))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, "第一条 为了规范管理，制定本办法。")
    c.drawString(72, 740, "第二条 本办法自发布之日起施行。")
    c.save()
    doc = load_file(f)
    assert "第一条 为了规范管理，制定本办法。" in doc.text
    assert "第二条 本办法自发布之日起施行。" in doc.text


def test_bad_files_reported_by_name_rest_loaded(tmp_path):
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "fake.pdf").write_bytes(b"\x00\x01\x02 this is not a pdf" * 10)
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 truncated zip")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "ignored.xyz").write_text("not a supported type")
    docs, errors = load_paths([tmp_path, tmp_path / "missing.txt"])
    assert [d.title for d in docs] == ["关于加强市场监管工作的通知"]
    reasons = {e.source.rsplit("/", 1)[-1]: e.reason for e in errors}
    assert set(reasons) == {"empty.txt", "fake.pdf", "broken.docx", "binary.txt", "missing.txt", "ignored.xyz"}
    assert reasons["ignored.xyz"] == "unsupported file type .xyz"  # nothing is skipped without a word
    assert reasons["empty.txt"] == "empty file"
    assert "no such file" in reasons["missing.txt"]
    assert "PDF" in reasons["fake.pdf"].upper() and "docx" in reasons["broken.docx"]


def test_zip_that_is_not_a_docx(tmp_path):
    f = tmp_path / "x.docx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match="docx"):
        load_file(f)
