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

# 联合行文 (GB/T 9704 7.2.2, 7.3.5): the 发文机关标志 names both organs, one per line, "文件" beside them;
# the 署名 is a signature table (organs side by side), the 成文日期 under it.
JOINT_2024 = [
    "宁波市民政局",
    "宁波市财政局",
    "文件",
    "甬民发〔2024〕5号",
    "宁波市民政局　宁波市财政局关于提高2024年城乡居民最低生活保障标准的通知",
    "各区（县、市）民政局、财政局，",
    "市直有关单位：",
    "经市政府同意，现就提高城乡居民最低生活保障标准通知如下：",
    "一、提高保障标准",
    "城乡低保标准每人每月提高到1200元。",
    "二、加强资金保障",
    "各地财政部门要足额安排低保资金。",
    "附件：低保标准调整测算表",
    "宁波市民政局\t宁波市财政局",
    "2024年3月1日",
    "（此件公开发布）",
    "抄送：市委办公厅，市人大常委会办公厅。",
    "宁波市民政局办公室　　2024年3月4日印发",
]

# 纪要 (GB/T 9704 10.3): the 纪要标志, its number, the issuing office and date in the header; who
# attended (出席/列席/请假/记录) after the 正文; 分送 in the 版记.
MINUTES_2024 = [
    "宁波市人民政府常务会议纪要",
    "〔2024〕5号",
    "宁波市人民政府办公室　　　　2024年3月5日",
    "关于研究城乡低保标准调整等事项的会议纪要",
    "2024年3月1日，市长张三主持召开市政府第30次常务会议，研究城乡低保标准调整等事项。现纪要如下：",
    "一、关于调整城乡低保标准",
    "会议同意将城乡低保标准提高到每人每月1200元，自2024年4月1日起执行。",
    "二、关于养老服务补贴",
    "会议原则同意市民政局提出的养老服务补贴方案，请市财政局做好资金保障。",
    "出席：张三、李四、王五",
    "列席：市民政局赵六，市财政局钱七",
    "请假：孙八",
    "记录：周九",
    "分送：市委办公厅，市人大常委会办公厅。",
    "宁波市人民政府办公室　　2024年3月5日印发",
]

# 纪要 numbered by issue (第5期), no title line of its own.
MINUTES_ISSUE = [
    "宁波市民政局局长办公会议纪要",
    "第5期",
    "宁波市民政局办公室　　2024年4月2日",
    "4月1日，局长办公会议研究了养老服务机构检查工作。",
    "一、全年检查全部养老服务机构。",
    "二、检查结果于每季度末公示。",
    "出席：赵一、钱二、孙四、",
    "李五、周六",
    "记录：孙三",
]

# 函 (GB/T 9704 10.1): the organ's full name as 发文机关标志 (no 文件), 文号 under it, 附注 with a contact.
LETTER_2024 = [
    "宁波市民政局",
    "甬民函〔2024〕12号",
    "宁波市民政局关于商请提供2023年度低保对象数据的函",
    "市统计局：",
    "为做好低保标准测算工作，请提供2023年度全市低保对象数据。",
    "请于2024年3月15日前反馈。特此函告。",
    "宁波市民政局",
    "2024年3月1日",
    "（联系人：王五，联系电话：0574-87654321）",
]

# An 印发通知 that wraps a 方案: the notice's own 成文日期 and 文号; the 方案 follows with its title.
ISSUING_2024 = [
    "宁波市人民政府办公厅文件",
    "甬政办发〔2024〕10号",
    "宁波市人民政府办公厅关于印发宁波市养老服务体系建设实施方案的通知",
    "市直各单位：",
    "《宁波市养老服务体系建设实施方案》已经市政府同意，现印发给你们，请认真贯彻执行。",
    "宁波市人民政府办公厅",
    "2024年3月1日",
    "（此件公开发布）",
    "宁波市养老服务体系建设实施方案",
    "为加快养老服务体系建设，制定本方案。",
    "一、总体要求",
    "到2025年底，全市养老服务体系基本建成。",
    "二、主要任务",
    "（一）建设养老服务中心（牵头单位：市民政局）",
    "每个街道至少建成1家综合性养老服务中心。",
    "（二）完善补贴制度",
    "2024年6月底前出台养老服务补贴办法。",
    "抄送：市委办公厅。",
    "宁波市人民政府办公厅　　2024年3月2日印发",
]

# A 解读 (a third document) reporting that the 2021 规范 is repealed by the 2023 one, which does not
# say so itself.
RULES_2023_SILENT = [*RULES_2023[:6], "第三条　本规范自2023年6月1日起施行。", *RULES_2023[7:]]
INTERPRETATION_2023 = [
    "《宁波市民政行政执法工作规范（2023年修订）》政策解读",
    "一、修订背景",
    "《宁波市民政行政执法工作规范（2023年修订）》自2023年6月1日起施行，"
    "原《宁波市民政局关于印发宁波市民政行政执法工作规范的通知》（甬民发〔2021〕15号）同时废止。",
    "二、主要变化",
    "双随机抽查比例由不低于20%提高到不低于30%。",
    "宁波市民政局办公室",
    "2023年5月20日",
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


def joint_docx(folder):
    """JOINT_2024 as an office's Word template lays it out: the 发文机关标志 a borderless table (the
    organs one a row, "文件" merged down the second column), the 署名 a signature table. Returns the path."""
    from tests import docgen as dg

    restart, cont = '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    body = [dg.table([[dg.p("宁波市民政局"), dg.p("文件")], [dg.p("宁波市财政局"), ""]],
                     cell_props={(0, 1): restart, (1, 1): cont})]  # fmt: skip
    for line in JOINT_2024[3:]:
        if "\t" in line:
            body.append(dg.table([[dg.p(c) for c in line.split("\t")]]))
        else:
            big = line.endswith("通知")  # the 标题 in 2号 type, centred like the 文号
            centre = '<w:jc w:val="center"/>' if big or line.endswith("号") else ""
            body.append(dg.p(ppr=centre, inner=dg.run(line, rpr='<w:sz w:val="44"/>' if big else "")))
    return dg.write_docx(folder / "joint.docx", "".join(body))


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
