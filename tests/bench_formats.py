"""`make bench-formats`: one office folder, the same policy documents in every format offices keep.

Five 红头 notices (a 工作要点 body with 一、/（一）/1./（1） items, 附件说明, signature, a table in 附件1,
抄送) are written as typed .txt (the reference), .docx with typed numbering, .docx with Word's
automatic numbering, .doc and .wps (saved by LibreOffice), .pdf (exported by LibreOffice), a scanned
.pdf (the exported pages rendered at 200 dpi into an image-only PDF), a scanned page .png, .ofd,
a government web page .html and that page saved as .mht (GBK, quoted-printable): 55 files. Slide
decks are not here: a 红头 notice is never a deck (tests/reading/test_read_slides.py checks them). Printed:

- per format: clauses, how many equal the typed original's (label, heading path, text; texts compared
  without whitespace for the formats whose line breaks come from layout), identity (title, 文号,
  issuer, date) equal to the original, read seconds per file;
- OCR seconds per page on this machine;
- `rag ingest` of the whole folder: seconds to searchable (lexical tier) and to complete (dense tier).

A second, smaller folder holds one 任务分工表 (30 task rows, a 类别 column merged down, tasks that
wrap) as .xlsx (openpyxl), .xls (saved by LibreOffice), .csv, .docx (python-docx, cells merged),
a ruled .pdf table over two pages (reportlab: header repeated, cells merged down) and an .ofd
table (the .csv and .ofd write the 类别 on every row, having no merges): per format, the rows read
as the typed table's rows (one clause "列名：值；…" each), how many of them under their 类别 as
heading, how many with the 类别 as a column instead, and the read seconds per file (`--tables`
prints only this).

Usage: python -m tests.bench_formats [--keep DIR] [--tables]
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path

from rag.reading.load import load_file
from rag.text.gongwen import date_line
from rag.text.split import split_document
from tests import docgen, ofdgen
from tests import gwfixtures as gw

VARIANTS = 5
_LEVELS = (
    (re.compile(r"^[一二三四五六七八九十]+、"), 0),
    (re.compile(r"^（[一二三四五六七八九十]+）"), 1),
    (re.compile(r"^\d+\."), 2),
    (re.compile(r"^（\d+）"), 3),
)


def notice_lines(i: int) -> list[str]:
    """The i-th notice: NOTICE_2022's frame around the 工作要点 body of `docgen.POLICY`, numbers varied."""
    year = str(2018 + i)
    head = [ln.replace("2022", year) for ln in gw.NOTICE_2022[:8]]
    body = [ln.replace("2022", year) for ln in gw.NOTICE_2022[8:9]]
    body += [f"{label}{text}".replace("2024", year).replace("20个", f"{20 + i}个") for _, label, text in docgen.POLICY]
    tail = [ln.replace("2022", year) for ln in gw.NOTICE_2022[gw.NOTICE_2022.index("附件：1.重点任务分工表") :]]
    return head + body + tail


def word(lines: list[str], path: Path, auto: bool) -> Path:
    """A .docx of `lines`: 红头 in a text box, body items as automatic numbering when `auto`, tables as tables."""
    d = docgen
    numbering = d.abstract_num(
        1,
        d.lvl(0, "chineseCounting", "%1、", suff="nothing"),
        d.lvl(1, "chineseCounting", "（%2）", suff="nothing"),
        d.lvl(2, "decimal", "%3.", suff="nothing"),
        d.lvl(3, "decimal", "（%4）", suff="nothing"),
    ) + d.num(1, 1)
    borders = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                      for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    start, stop = 8, lines.index("附件：1.重点任务分工表")
    body, rows = [], []
    for k, line in enumerate(lines):
        if "\t" in line:
            rows.append([d.p(c) for c in line.split("\t")])
            continue
        if rows:  # a ruled table, as 公文 tables are
            body.append(d.table(rows).replace("<w:tblPr>", f"<w:tblPr><w:tblBorders>{borders}</w:tblBorders>", 1))
            rows = []
        if k == 3:
            body.append(d.p("", inner=d.textbox_drawingml(d.p(line))))
            continue
        level = next((lv for rx, lv in _LEVELS if rx.match(line)), None) if start <= k < stop else None
        if auto and level is not None:
            label = next(rx for rx, lv in _LEVELS if lv == level).match(line).group(0)
            body.append(d.p(line[len(label) :], num_id=1, ilvl=level))
        else:
            body.append(d.p(line))
    if rows:
        body.append(d.table(rows).replace("<w:tblPr>", f"<w:tblPr><w:tblBorders>{borders}</w:tblBorders>", 1))
    return d.write_docx(path, "".join(body), numbering=numbering if auto else None)


def web_page(lines: list[str], path: Path) -> Path:
    """A government page: nav, breadcrumb, 信息公开 box, the document, tools, related links, footer."""
    from html import escape

    def block(ln: str) -> str:
        if "\t" in ln:
            return "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in ln.split("\t")) + "</tr>"
        return f"<p>{escape(ln)}</p>"

    title = lines[5] + lines[6]
    rows, out = [], []
    for ln in lines[7:]:
        if "\t" in ln:
            rows.append(block(ln))
            continue
        if rows:
            out.append("<table>" + "".join(rows) + "</table>")
            rows = []
        out.append(block(ln))
    if rows:
        out.append("<table>" + "".join(rows) + "</table>")
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}_宁波市民政局</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/xxgk">信息公开</a> <a href="/zwfw">政务服务</a></div>
<div class="crumb">当前位置：首页 &gt; 信息公开 &gt; 通知公告</div>
<table class="xxgk"><tr><td>索引号：</td><td>11330200MB0000000X/2022-00012</td>
<td>发布机构：</td><td>宁波市民政局</td></tr>
<tr><td>成文日期：</td><td>{escape(next(ln for ln in lines if date_line(ln)))}</td>
<td>文号：</td><td>{escape(lines[4].split("　")[0])}</td></tr></table>
<h1>{escape(title)}</h1><div class="tools">字号：【大 中 小】 【打印本页】 【关闭窗口】</div>
<div class="content">{"".join(out)}</div>
<div class="related">相关链接：<a href="#">民政部</a> <a href="#">浙江省民政厅</a></div>
<div class="footer">主办单位：宁波市民政局 网站标识码：3302000012 浙ICP备12345678号</div></body></html>"""
    path.write_text(html, encoding="utf-8")
    return path


def mht(html: Path) -> Path:
    """The page saved by a browser as one MIME file: the page GBK quoted-printable, beside an image."""
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = html.stem
    msg["MIME-Version"] = "1.0"
    page = html.read_text("utf-8").replace('charset="utf-8"', 'charset="gbk"').encode("gbk")
    msg.set_content(page, "text", "html", cte="quoted-printable", params={"charset": "gbk"})
    msg.make_related()
    logo = EmailMessage(policy=SMTP)
    logo.set_content(b"\x89PNG\r\n\x1a\n" + bytes(32), "image", "png", cid="<logo@saved>")
    msg.attach(logo)
    path = html.with_suffix(".mht")
    path.write_bytes(msg.as_bytes())
    return path


def ofd(lines: list[str], path: Path) -> Path:
    """An .ofd laid out like the producers do (wrapped lines, pages, page numbers)."""
    lay = ofdgen.Layout()
    for k, ln in enumerate(lines):
        if lay.y > ofdgen.PAGE_H - 40:
            lay.new_page()
        if "\t" in ln:  # a table row: cells in columns on one baseline
            cells = [ofdgen.Obj([ofdgen.Code(ofdgen.LEFT + 45 * j, lay.y, c)]) for j, c in enumerate(ln.split("\t"))]
            lay.pages[-1].extend(cells)
            lay.y += ofdgen.PITCH
        elif k in (3, 5, 6):
            lay.add(ln, align="center", size=ofdgen.BODY * 1.3)
        else:
            lay.add(ln, indent=2 if k > 7 else 0)
    pages = [ofdgen.page_xml(objs) for objs in lay.pages]
    path.write_bytes(ofdgen.build_ofd(pages, title=lines[5] + lines[6]))
    return path


def scans(pdf: Path, folder: Path, dpi: int = 200) -> tuple[Path, Path]:
    """The exported PDF printed and scanned: an image-only PDF of every page, and page 1 as .png."""
    import pypdfium2 as pdfium

    pages = [pg.render(scale=dpi / 72).to_pil().convert("L") for pg in pdfium.PdfDocument(str(pdf))]
    scan_pdf = folder / f"{pdf.stem}-scan.pdf"
    pages[0].save(scan_pdf, save_all=True, append_images=pages[1:], resolution=dpi)
    png = folder / f"{pdf.stem}-scan-p1.png"
    pages[0].save(png)
    return scan_pdf, png


def build(folder: Path) -> dict[str, list[Path]]:
    """The 55 files, by format."""
    out: dict[str, list[Path]] = {}
    autos = []
    for i in range(VARIANTS):
        lines = notice_lines(i)
        txt = folder / f"n{i}.txt"
        txt.write_text(gw.text(lines), encoding="utf-8")
        out.setdefault("txt (reference)", []).append(txt)
        out.setdefault("docx typed", []).append(word(lines, folder / f"n{i}-typed.docx", auto=False))
        autos.append(word(lines, folder / f"n{i}-auto.docx", auto=True))
        out.setdefault("html", []).append(web_page(lines, folder / f"n{i}.html"))
        out.setdefault("ofd", []).append(ofd(lines, folder / f"n{i}.ofd"))
        out.setdefault("mht", []).append(mht(out["html"][-1]))
    out["docx auto-numbered"] = autos
    lo = folder / "lo"
    out["doc"] = [shutil.move(p, folder / p.name) for p in gw.lo_convert(autos, "doc", lo)]
    out["wps"] = [Path(shutil.copy(p, folder / f"{p.stem}-wps.wps")) for p in out["doc"]]
    out["pdf"] = [Path(shutil.move(p, folder / p.name)) for p in gw.lo_convert(autos, "pdf", lo)]
    for pdf in out["pdf"]:
        s, png = scans(pdf, folder)
        out.setdefault("pdf scanned", []).append(s)
        out.setdefault("png scanned page 1", []).append(png)
    shutil.rmtree(lo, ignore_errors=True)
    return out


def _ws(s: str) -> str:
    return re.sub(r"\s+", "", s)


def compare(files: dict[str, list[Path]]) -> list[tuple[str, ...]]:
    rows = []
    refs = [load_file(p) for p in files["txt (reference)"]]
    ref_views = [[(c.label, c.headings, c.text) for c in split_document(d)] for d in refs]
    for kind, paths in files.items():
        n = same = exact = ident = 0
        total = 0
        t0 = time.perf_counter()
        docs = [load_file(p) for p in paths]
        secs = (time.perf_counter() - t0) / len(paths)
        pages = sum(len(d.pages) or 1 for d in docs)
        for d, ref, want in zip(docs, refs, ref_views):
            got = [(c.label, c.headings, c.text) for c in split_document(d)]
            n += len(got)
            total += len(want)
            exact += sum(1 for g, w in zip(got, want) if g == w)
            same += sum(1 for g, w in zip(got, want) if (g[0], g[1], _ws(g[2])) == (w[0], w[1], _ws(w[2])))
            ident += (d.title, d.doc_number, d.issuer, d.date) == (ref.title, ref.doc_number, ref.issuer, ref.date)
        rows.append((kind, f"{n}/{total}", f"{exact}", f"{same}", f"{ident}/{len(docs)}", f"{secs:.2f}",
                     f"{secs * len(paths) / pages:.2f}"))  # fmt: skip
    return rows


def ingest_time(folder: Path) -> tuple[float, float, int, int]:
    from rag.ingest.pipeline import ingest

    with tempfile.TemporaryDirectory() as idx:
        rep = ingest([folder], idx, show_progress=False)
        return rep.searchable_after, rep.seconds, rep.documents, len(rep.failures)


TASK_HEADER = ["类别", "序号", "重点任务", "责任单位", "完成时限"]
_TASKS = ["建设农贸市场快检室，配备快速检测设备和专职检测人员", "推进养老服务中心建设，完善助餐、助浴等服务功能",
          "开展食品安全专项整治行动", "河道清淤"]  # fmt: skip
_UNITS = ["市市场监管局", "市民政局", "市市场监管局、市教育局", "市水利局"]
_DUE = ["2024年6月底前", "2024年三季度", "长期坚持", "2024年底前"]


def task_rows(n: int = 30) -> list[list[str]]:
    """The typed 任务分工表: each row's 类别 written out (three categories of 10 rows)."""
    cats = ["一、食品安全", "二、养老服务", "三、水环境治理"]
    return [[cats[i * len(cats) // n], str(i + 1), _TASKS[i % 4], _UNITS[i % 4], _DUE[i % 4]] for i in range(n)]


def _merged(rows: list[list[str]]) -> list[list[str | None]]:
    return [[None if i and r[0] == rows[i - 1][0] else r[0], *r[1:]] for i, r in enumerate(rows)]


def build_tables(folder: Path) -> dict[str, Path]:
    """The 任务分工表 in each table format (see the module docstring)."""
    import docx
    import openpyxl

    from tests import pdfgen

    rows = task_rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分工"
    ws.append(TASK_HEADER)
    for r in rows:
        ws.append([r[0], int(r[1]), *r[2:]])
    first = 2
    for k in range(len(rows) + 1):
        if k == len(rows) or (k and rows[k][0] != rows[k - 1][0]):
            ws.merge_cells(f"A{first}:A{k + 1}")
            first = k + 2
    out = {"xlsx": folder / "分工.xlsx"}
    wb.save(out["xlsx"])
    out["xls"] = Path(shutil.move(gw.lo_convert([out["xlsx"]], "xls", folder / "lo")[0], folder / "分工.xls"))
    shutil.rmtree(folder / "lo", ignore_errors=True)
    out["csv"] = folder / "分工.csv"
    out["csv"].write_text("\n".join(",".join(r) for r in [TASK_HEADER, *rows]) + "\n", encoding="utf-8")
    d = docx.Document()
    d.add_paragraph("附件：重点任务分工表")
    t = d.add_table(rows=len(rows) + 1, cols=len(TASK_HEADER))
    for r, values in enumerate([TASK_HEADER, *_merged(rows)]):
        for c, value in enumerate(values):
            t.cell(r, c).text = value or ""
    first = 1
    for k in range(1, len(rows) + 1):
        if k == len(rows) or rows[k][0] != rows[k - 1][0]:
            t.cell(first, 0).merge(t.cell(k, 0)).text = rows[first - 1][0]
            first = k + 1
    out["docx"] = folder / "分工.docx"
    d.save(str(out["docx"]))
    out["pdf"] = pdfgen.long_table_pdf(folder, _merged(rows), name="分工.pdf", caption="附件：重点任务分工表",
                                       header=TASK_HEADER, widths=(80, 40, 190, 100, 90))  # fmt: skip
    pages = ofdgen.table_pages([TASK_HEADER, *rows], [28, 12, 60, 32, 24], per_page=15,
                               caption="附件：重点任务分工表")  # fmt: skip
    out["ofd"] = folder / "分工.ofd"
    out["ofd"].write_bytes(ofdgen.build_ofd([ofdgen.page_xml(p) for p in pages]))
    return out


def compare_tables(files: dict[str, Path]) -> list[tuple[str, ...]]:
    """Per format: clauses that are the typed rows (text, and text with its 类别 as the last heading), s/file."""
    rows = task_rows()
    want = ["；".join(f"{k}：{v}" for k, v in zip(TASK_HEADER[1:], r[1:])) for r in rows]
    flat = ["；".join(f"{k}：{v}" for k, v in zip(TASK_HEADER, r)) for r in rows]  # 类别 as a column
    out = []
    for kind, path in files.items():
        t0 = time.perf_counter()
        doc = load_file(path)
        secs = time.perf_counter() - t0
        got = split_document(doc)
        texts = [c.text for c in got]
        same = sum(1 for w in want if w in texts)
        headed = sum(1 for c in got for w, r in zip(want, rows) if c.text == w and c.headings[-1:] == (r[0],))
        as_column = sum(1 for f in flat if f in texts)
        out.append((kind, f"{len(got)}", f"{same}/{len(rows)}", f"{headed}/{len(rows)}", f"{as_column}/{len(rows)}",
                    f"{secs:.2f}"))  # fmt: skip
    return out


def _print(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="write the folder here and keep it")
    ap.add_argument("--tables", action="store_true", help="only the 任务分工表 in the table formats")
    args = ap.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="formats-"))
    folder.mkdir(parents=True, exist_ok=True)
    tables = folder / "tables"
    tables.mkdir(exist_ok=True)
    print("任务分工表 (30 rows) in each table format:")
    _print(("format", "clauses", "rows as typed", "…under their 类别", "…类别 as a column", "s/file"),
           compare_tables(build_tables(tables)))  # fmt: skip
    shutil.rmtree(tables, ignore_errors=True)
    if args.tables:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        return 0
    t0 = time.perf_counter()
    files = build(folder)
    print(f"built {sum(len(v) for v in files.values())} files in {time.perf_counter() - t0:.0f}s under {folder}")
    head = ("format", "clauses/typed", "exact", "same ignoring whitespace", "identity", "s/file", "s/page")
    _print(head, compare(files))
    searchable, total, docs, failures = ingest_time(folder)
    print(f"rag ingest of the folder ({docs} documents, {failures} not indexed): searchable after {searchable:.1f}s, "
          f"complete (dense) after {total:.1f}s")  # fmt: skip
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
