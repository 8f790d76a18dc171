"""Texts of 公文 as offices keep them (GB/T 9704 layout), for the structure and version tests.

Each is a list of lines, so the same document can be written as .txt, .docx, .pdf or .ofd.
"""

from __future__ import annotations

NOTICE_2022 = [
    "000123",
    "机密★1年",
    "特急",
    "宁波市民政局文件",
    "甬民发〔2022〕12号　　　　签发人：张三",
    "宁波市民政局关于印发",
    "2022年全市民政系统依法行政工作要点的通知",
    "各区（县、市）民政局，局机关各处室：",
    "现将《2022年全市民政系统依法行政工作要点》印发给你们，请认真贯彻落实。"
    "按照《国务院关于加强和规范事中事后监管的指导意见》（国发〔2019〕18号）要求，于2022年6月30日前报送。",
    "一、依法行政工作",
    "（一）强化统筹协调",
    "1.双随机抽查比例要达到20%以上[注1]。",
    "[注1] 比例按年度抽查对象总数计算。",
    "2.行政执法案卷评查每年开展一次。",
    "（二）规范行政执法",
    "全面推行行政执法公示制度。",
    "二、法治宣传教育",
    "落实“谁执法谁普法”普法责任制。",
    "附件：1.重点任务分工表",
    "2.工作进度安排",
    "宁波市民政局",
    "2022年3月1日",
    "（此件公开发布）",
    "附件1",
    "重点任务分工表",
    "序号\t任务\t牵头单位",
    "1\t双随机抽查\t执法处",
    "2\t案卷评查\t法规处",
    "抄送：市委办公厅，市人大常委会办公厅。",
    "宁波市民政局办公室　　2022年3月2日印发",
]

RULES_2021 = [
    "宁波市民政局文件",
    "甬民发〔2021〕15号",
    "宁波市民政局关于印发宁波市民政行政执法工作规范的通知",
    "各区（县、市）民政局：",
    "第一条　为规范民政行政执法，制定本规范。",
    "第二条　双随机抽查比例不低于20%。",
    "第三条　本规范自2021年5月1日起施行。",
    "宁波市民政局",
    "2021年4月20日",
]

RULES_2023 = [
    "宁波市民政局文件",
    "甬民发〔2023〕8号",
    "宁波市民政局关于印发宁波市民政行政执法工作规范（2023年修订）的通知",
    "各区（县、市）民政局：",
    "第一条　为规范民政行政执法，制定本规范。",
    "第二条　双随机抽查比例不低于30%。",
    "第三条　本规范自2023年6月1日起施行，原《宁波市民政局关于印发宁波市民政行政执法工作规范的通知》"
    "（甬民发〔2021〕15号）同时废止。",
    "宁波市民政局",
    "2023年5月10日",
]

UNRELATED_2024 = [
    "宁波市民政局文件",
    "甬民发〔2024〕3号",
    "宁波市民政局关于做好2024年春节期间困难群众走访慰问工作的通知",
    "各区（县、市）民政局：",
    "一、走访对象",
    "低保、特困等困难群众。",
    "二、工作要求",
    "走访慰问工作于2024年2月5日前完成。",
    "宁波市民政局",
    "2024年1月15日",
]


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def notice_docx(folder, auto: bool = True):
    """NOTICE_2022 as a Word file: the 红头 in a text box, 一、/（一）/1. as automatic numbering (or typed),
    the footnote as a real footnote, the 分工表 as a table. Returns the path."""
    from tests import docgen as dg

    numbering = dg.abstract_num(
        1,
        dg.lvl(0, "chineseCounting", "%1、", suff="nothing"),
        dg.lvl(1, "chineseCounting", "（%2）", suff="nothing"),
        dg.lvl(2, "decimal", "%3.", suff="nothing"),
    ) + dg.num(1, 1)
    labels = {"一、": 0, "二、": 0, "（一）": 1, "（二）": 1, "1.": 2, "2.": 2}
    body, rows, footnotes = [], [], {}
    for line in NOTICE_2022:
        if "\t" in line:
            rows.append([dg.p(c) for c in line.split("\t")])
            continue
        if line.startswith("[注1]"):
            footnotes[1] = dg.p(line.removeprefix("[注1] "))
            continue
        if line == "宁波市民政局文件":
            body.append(dg.p("", inner=dg.textbox_drawingml(dg.p(line))))
            continue
        if rows and line.startswith("抄送"):
            body.append(dg.table(rows))
            rows = []
        label = next((k for k in labels if line.startswith(k) and not line.startswith("2.工作进度")), None)
        text = line[len(label):] if label and auto else line
        num_id = 1 if label and auto else None
        ilvl = labels[label] if label and auto else None
        if "[注1]" in text:
            before, after = text.split("[注1]")
            body.append(dg.p(before, num_id=num_id, ilvl=ilvl,
                             inner=dg.run(inner='<w:footnoteReference w:id="2"/>') + dg.run(after)))
        else:
            body.append(dg.p(text, num_id=num_id, ilvl=ilvl))
    footnotes = {2: footnotes[1]}
    name = "notice-auto.docx" if auto else "notice-typed.docx"
    return dg.write_docx(folder / name, "".join(body), numbering=numbering if auto else None, footnotes=footnotes)


def lo_convert(paths, fmt: str, outdir):
    """Convert files with LibreOffice headless (one process for all), as an office's Word would save them."""
    import shutil
    import subprocess
    from pathlib import Path

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed: make install-system")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    profile = (outdir / ".lo-profile").resolve()
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(outdir.resolve()), *(str(Path(p).resolve()) for p in paths)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    return [outdir / f"{Path(p).stem}.{fmt}" for p in paths]
