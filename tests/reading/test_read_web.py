"""The web reader: government pages -> body lines verbatim, 信息公开 box -> meta, chrome left out,
hostile HTML survived."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from rag.reading.readers import web
from rag.reading.readers.web import (
    decode_html,
    is_tool_line,
    iso_date,
    parse_meta_lines,
    read_html,
    render,
    site_stripped,
    sniff,
)
from tests import webgen

PAGES = webgen.all_pages()
IDS = [p.name for p in PAGES]


def _read(html: str | bytes, name: str = "page.html") -> web.Extracted:
    data = html.encode("utf-8") if isinstance(html, str) else html
    return read_html(Path(name), data)


def _lines(html: str | bytes) -> list[str]:
    return _read(html).text.split("\n")


# ---------------------------------------------------------------- the fixture pages


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_page_body_lines_exactly(page):
    assert _read(page.data()).text.split("\n") == list(page.body)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_page_title_and_meta(page):
    ex = _read(page.data())
    assert ex.title == page.title
    assert ex.meta == page.meta


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_page_has_no_chrome(page):
    text = _read(page.data()).text
    leaked = [c for c in webgen.CHROME + page.chrome if c in text]
    assert leaked == []


def test_gb_pages_decoded_by_their_declared_charset():
    assert _read(webgen.BUREAU.data()).encoding == "gb18030"  # declared gb2312, wider characters used
    assert _read(webgen.NOTICE.data()).encoding == "gb18030"  # declared gbk


def test_sample_page_keeps_its_body():
    page = webgen.sample_page()
    if page is None:
        pytest.skip("sample corpus file not present")
    lines = _lines(page.data())
    for known in ("一、依法行政工作", "同志们:", "我就讲这么多,谢谢大家。", "2022年教育系统党建工作计划篇3"):
        assert known in lines
    text = "\n".join(lines)
    assert "推荐访问" not in text and "版权所有" not in text and "浏览量" not in text
    assert lines[0] == page.title


@pytest.mark.parametrize("page", [webgen.GOV_CN, webgen.NOTICE, webgen.BUREAU], ids=lambda p: p.name)
def test_load_file_title_is_the_pages_title(tmp_path, page):
    from rag.reading.load import load_file

    doc = load_file(page.write(tmp_path))
    if doc.text != _read(page.data()).text:
        pytest.skip("rag.reading.load.load_file does not read .html through rag.reading.readers.web yet")
    assert doc.title == page.title


# ---------------------------------------------------------------- text rules


def test_inline_tags_never_break_a_line():
    html = """<p>　　（一）<strong>完善监测对象范围。</strong>低收入人口主要包括<span>最低生活</span>
        <a href="x">保障</a><font color=red>对象</font>、<em>特困</em><b>人员</b><u>等</u>，见<sup>[1]</sup>。</p>"""
    assert _lines(html) == ["（一）完善监测对象范围。低收入人口主要包括最低生活保障对象、特困人员等，见[1]。"]


def test_blocks_and_br_make_lines():
    html = "<div>甲<p>乙</p>丙<br>丁<ul><li>戊</li><li>己</li></ul><h3>庚</h3><section>辛</section></div>"
    assert _lines(html) == ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("最低生活\n      保障", "最低生活保障"),  # a source line break between CJK characters vanishes
        ("拨打\n12345\n热线", "拨打 12345 热线"),  # next to a digit it is a space, as a browser shows it
        ("按照\n“应保尽保”\n的要求", "按照“应保尽保”的要求"),
        ("a  \t b", "a b"),
        ("\u3000\u3000第一条\u3000总则", "第一条\u3000总则"),  # indentation dropped, inner U+3000 kept
        ("\xa0\xa0\xa0\xa0一、范围\xa0", "一、范围"),
        ("第\u200b一条", "第一条"),
    ],
)
def test_whitespace_as_a_browser_shows_it(raw, shown):
    assert render(raw) == shown


def test_entities_decoded_and_text_verbatim():
    assert _lines("<p>A&amp;B&nbsp;C &lt;规定&gt; 〔2023〕12号（试行）</p>") == ["A&B\xa0C <规定> 〔2023〕12号（试行）"]


def test_data_table_rows_joined_by_tab_with_caption():
    html = """<p>正文</p><table><caption>表1 标准</caption>
      <thead><tr><th>类别</th><th>标准</th></tr></thead>
      <tbody><tr><td><p>城市</p></td><td>783<br>元</td></tr><tr><td></td><td></td></tr>
      <tr><td>农村\t低保</td><td>621</td></tr></tbody></table>"""
    assert _lines(html) == ["正文", "表1 标准", "类别\t标准", "类别：城市；标准：783 元", "类别：农村 低保；标准：621"]


def test_layout_table_is_blocks_not_rows():
    html = """<table><tr><td><a href="/">首页</a></td></tr><tr><td>
      <table><tr><td><p>第一段正文，内容较长。</p><p>第二段正文。</p></td></tr></table></td></tr></table>"""
    assert _lines(html) == ["第一段正文，内容较长。", "第二段正文。"]


def test_pre_keeps_its_lines():
    assert _lines("<pre>第一行\n  第二行\n</pre>") == ["第一行", "  第二行"]


def test_hidden_and_script_text_left_out():
    html = """<div><p>正文一。</p><p style="display: none">隐藏</p><p hidden>也隐藏</p>
      <script>document.write('<p>脚本</p>')</script><style>p{}</style><noscript>请启用</noscript>
      <select><option>选项</option></select><p>正文二。</p></div>"""
    assert _lines(html) == ["正文一。", "正文二。"]


# ---------------------------------------------------------------- content selection and chrome


def test_short_notice_found_beside_long_sidebar():
    links = "".join(
        f'<li><a href="/{i}">关于做好第{i}批城乡居民最低生活保障资金发放工作的通知</a></li>' for i in range(20)
    )
    sidebar = f"<h4>最新文件</h4><ul>{links}</ul><p>咨询电话：办公室</p>"
    html = f"""<html><body><div class="wrap"><div class="col-a">{sidebar}</div>
      <div class="col-b"><div class="article"><p>各科室：</p><p>定于本周五下午召开全体会议，请准时参加。</p>
      <p>特此通知。</p></div></div></div></body></html>"""
    assert _lines(html) == ["各科室：", "定于本周五下午召开全体会议，请准时参加。", "特此通知。"]


def test_sentence_citing_linked_laws_is_not_a_link_list():
    html = """<div class="content"><p>为规范管理，根据<a href="1">《中华人民共和国A法》</a>、<a href="2">《B条例》</a>、
      <a href="3">《C办法》</a>，制定本办法。</p><div><a href="4">《中华人民共和国A法》</a>、<a href="5">《B条例》</a>、
      <a href="6">《C办法》</a>等规定同时适用。</div><p>第二条　本办法适用于全省。</p></div>"""
    lines = _lines(html)
    assert lines[0] == "为规范管理，根据《中华人民共和国A法》、《B条例》、《C办法》，制定本办法。"
    assert "《中华人民共和国A法》、《B条例》、《C办法》等规定同时适用。" in lines


def test_link_list_and_related_block_dropped_attachments_kept():
    html = """<div id="main"><p>第一条　为做好工作，制定本办法。</p><p>第二条　本办法自发布之日起施行。</p>
      <p>附件：<a href="a.doc">1.申请表</a> <a href="b.xls">2.汇总表</a> <a href="c.pdf">3.流程图</a></p></div>
      <div class="fj"><a href="d.docx">登记表.docx</a></div>
      <div><h4>相关文件</h4><ul><li><a href="/1">关于甲的通知</a></li><li><a href="/2">关于乙的通知</a></li></ul></div>
      <div><a href="/">首页</a> | <a href="/a">关于我们</a> | <a href="/b">网站地图</a></div>"""
    assert _lines(html) == [
        "第一条　为做好工作，制定本办法。",
        "第二条　本办法自发布之日起施行。",
        "附件：1.申请表 2.汇总表 3.流程图",
        "登记表.docx",
    ]


@pytest.mark.parametrize(
    "line",
    ["字号：【大 中 小】", "【字体：大 中 小】", "【打印本页】 【关闭窗口】", "[打印] [关闭]", "分享到：",
     "打印本页 关闭窗口", "扫一扫在手机打开当前页", "【我要纠错】", "相关链接", "相关文件：", "返回顶部"],
)  # fmt: skip
def test_tool_lines(line):
    assert is_tool_line(line)


@pytest.mark.parametrize(
    "line", ["一、关闭落后产能", "打印机采购不超过5万元。", "中小企业", "大、中、小型企业划型标准"]
)
def test_body_lines_are_not_tool_lines(line):
    assert not is_tool_line(line)


def test_class_names_of_chrome():
    html = """<html><body><div id="topNav"><span>政务公开</span></div><div class="share-box">分享</div>
      <div class="bread-crumb">首页 &gt; 通知</div>
      <div class="main-content"><p>正文第一段内容。</p><p>正文第二段。</p></div>
      <div class="foot-info">地址：某某路1号</div><div id="zoom2">无关</div></body></html>"""
    assert _lines(html)[:2] == ["正文第一段内容。", "正文第二段。"]
    assert "地址" not in _read(html).text


# ---------------------------------------------------------------- title and metadata


@pytest.mark.parametrize(
    "raw,title",
    [
        ("关于…的通知_国务院文件_中国政府网", "关于…的通知"),
        ("关于…的通知 - 江南省人民政府门户网站", "关于…的通知"),
        ("关于…的通知-青山市民政局", "关于…的通知"),
        ("青山县人民政府-关于…的通知", "关于…的通知"),
        ("关于印发2021-2025年规划的通知", "关于印发2021-2025年规划的通知"),
        ("奋力谱写新篇章——白水市民政工作综述", "奋力谱写新篇章——白水市民政工作综述"),
        ("关于…的通知 | 白水市民政局", "关于…的通知"),
    ],
)
def test_site_name_stripped_from_title(raw, title):
    assert site_stripped(raw) == title


def test_logo_h1_is_not_the_title():
    html = """<html><head><title>关于做好春节慰问工作的通知_青山区人民政府</title></head><body>
      <div class="hd"><h1>青山区人民政府</h1></div>
      <div class="c"><p>各街道：</p><p>现就做好春节慰问工作通知如下。</p></div>
      </body></html>"""
    ex = _read(html)
    assert ex.title == "关于做好春节慰问工作的通知"
    assert "青山区人民政府" not in ex.text.split("\n")


def test_article_title_meta_used_when_no_box():
    html = """<html><head><meta name="ArticleTitle" content="某某办法"><meta name="PubDate" content="2023-01-05 08:00">
      <title>某某办法_某某网</title></head><body><p>第一条　目的。</p></body></html>"""
    ex = _read(html)
    assert ex.title == "某某办法" and ex.meta == {"date": "2023-01-05", "published": "2023-01-05"}


@pytest.mark.parametrize(
    "value,iso",
    [("2023-10-16", "2023-10-16"), ("2023年5月8日", "2023-05-08"), ("2023/5/8 10:00", "2023-05-08"),
     ("2023.05.08", "2023-05-08"), ("2023年13月1日", None), ("无", None)],
)  # fmt: skip
def test_iso_date(value, iso):
    assert iso_date(value) == iso


def test_meta_lines_label_cells_and_inline_pairs():
    lines = ["索  引  号：", "000014349/2023-00045", "发文机关：国务院办公厅", "标\u3000\u3000题", "关于X的通知",
             "发布日期：2023-10-20\xa0\xa0来源：中国政府网", "文号："]  # fmt: skip
    assert parse_meta_lines(lines) == {
        "index_no": "000014349/2023-00045",
        "issuer": "国务院办公厅",
        "title": "关于X的通知",
        "published": "2023-10-20",
    }


def test_data_table_with_label_headings_is_not_a_box():
    html = """<div class="content"><p>现将有关文件目录公布如下：</p><table>
      <tr><th>名称</th><th>文号</th><th>发布机构</th></tr>
      <tr><td>关于甲的办法</td><td>白政发〔2020〕1号</td><td>白水市人民政府</td></tr></table></div>"""
    ex = _read(html)
    assert ex.meta == {}
    assert ex.text.split("\n")[1:] == [
        "名称\t文号\t发布机构",
        "名称：关于甲的办法；文号：白政发〔2020〕1号；发布机构：白水市人民政府",
    ]


# ---------------------------------------------------------------- sniffing, decoding


def test_sniff():
    assert sniff(b"<!DOCTYPE html><html>")
    assert sniff(b"\xef\xbb\xbf  <html lang=zh>")
    assert sniff(b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">')
    assert not sniff(b"%PDF-1.7")
    assert not sniff("第一条 这是纯文本。".encode())


def test_decode_declared_gbk_with_a_broken_byte():
    data = (
        '<meta charset="gbk"><p>第一段正文内容，足够长的一段话。</p>'.encode("gbk")
        + b"\xff"
        + "<p>第二段</p>".encode("gbk")
    )
    text, enc = decode_html(data)
    assert enc == "gb18030" and "第一段正文内容" in text and "第二段" in text


def test_decode_misdeclared_charset_detected():
    data = (
        '<meta charset="utf-8"><p>' + "根据有关规定，现就做好城乡居民最低生活保障工作通知如下。" * 5 + "</p>"
    ).encode("gbk")
    text, _ = decode_html(data)
    assert "最低生活保障" in text


# ---------------------------------------------------------------- hostile input


def _timed(data: bytes, seconds: float = 5.0) -> web.Extracted:
    start = time.monotonic()
    ex = _read(data)
    assert time.monotonic() - start < seconds
    return ex


def test_huge_nesting_is_read_as_a_stream():
    data = ("<html><body>" + "<div>" * 50_000 + "正文" + "</div>" * 50_000 + "<p>结尾</p></body></html>").encode()
    ex = _timed(data)
    assert ex.text.split("\n") == ["正文", "结尾"] and ex.notes


def test_unclosed_inline_tags_beyond_parser_depth_keep_all_text():
    data = ("<html><body><p>" + "<font>字" * 5000 + "</p><p>结尾</p></body></html>").encode()
    assert _timed(data).text.split("\n") == ["字" * 5000, "结尾"]


def test_ten_megabyte_single_line():
    data = ("<html><body><p>" + "中文 text " * 1_200_000 + "</p></body></html>").encode()
    assert len(data) > 10_000_000
    assert len(_timed(data).text) == len("中文 text " * 1_200_000) - 1


def test_unclosed_tags_and_script_tricks():
    data = b"<html><body><script>var s='</div><p>evil';</script><div><p>\xe4\xb8\x80<p>\xe4\xba\x8c<li>\xe4\xb8\x89"
    assert _timed(data).text.split("\n") == ["一", "二", "三"]


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", bytes(range(256)) * 50, b"<html><frameset><frame src=a.html></frameset></html>", b"<<<>>>&&&;",
     b"\x00\x00<p>\x00</p>", '<?xml version="1.0" encoding="gbk"?><html><body><p>正文</p></body></html>'.encode("gbk"),
     b"<p>" + b"\xff\xfe\x80" * 1000 + b"</p>", b"<div class=" + b"a" * 1_000_000 + b">x</div>"],
)  # fmt: skip
def test_garbage_never_raises(data):
    assert isinstance(_timed(data).text, str)


def test_no_network_is_touched(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the reader opened a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = """<!DOCTYPE html><html><head><link rel="stylesheet" href="http://example.com/a.css">
      <script src="http://example.com/a.js"></script></head><body><iframe src="http://example.com/"></iframe>
      <p>正文<img src="http://example.com/x.png">内容</p></body></html>"""
    assert _lines(html) == ["正文内容"]
