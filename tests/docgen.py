"""Builders of .docx test files: hand-written WordprocessingML in a minimal package.

Each fixture is a function `(folder: Path) -> Path` (or a pair of paths) that writes a
file into `folder`. The parts are written by hand rather than through python-docx so that
the numbering, styles, fields, text boxes and notes are exactly the markup Word writes;
python-docx opens every file built here (the tests check that), so the packages are valid.

The small XML helpers (`p`, `run`, `lvl`, `abstract_num`, `num`, `style`, `write_docx`)
are reusable for new fixtures. The document texts live in `POLICY` and `REGULATION` so
tests can compare with the typed originals.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
    'mc:Ignorable="w14"'
)
_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# ------------------------------------------------------------------ XML helpers


def run(text: str = "", *, rpr: str = "", inner: str = "") -> str:
    """One w:r with its text (spaces preserved) or raw `inner` markup."""
    t = f'<w:t xml:space="preserve">{escape(text)}</w:t>' if text else ""
    return f"<w:r>{f'<w:rPr>{rpr}</w:rPr>' if rpr else ''}{t}{inner}</w:r>"


def p(
    text: str = "",
    *,
    style: str | None = None,
    num_id: int | None = None,
    ilvl: int | None = None,
    inner: str = "",
    ppr: str = "",
) -> str:
    """One w:p: optional style and numPr (numId and/or ilvl), a run of `text`, then raw `inner`."""
    props = ""
    if style:
        props += f"<w:pStyle w:val={quoteattr(style)}/>"
    if num_id is not None or ilvl is not None:
        props += "<w:numPr>"
        props += f'<w:ilvl w:val="{ilvl}"/>' if ilvl is not None else ""
        props += f'<w:numId w:val="{num_id}"/>' if num_id is not None else ""
        props += "</w:numPr>"
    props += ppr
    return f"<w:p>{f'<w:pPr>{props}</w:pPr>' if props else ''}{run(text) if text else ''}{inner}</w:p>"


def lvl(
    ilvl: int,
    fmt: str,
    text: str,
    *,
    start: int = 1,
    suff: str | None = None,
    restart: int | None = None,
    pstyle: str | None = None,
    is_lgl: bool = False,
) -> str:
    """One w:lvl of an abstractNum."""
    out = f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
    out += f'<w:lvlRestart w:val="{restart}"/>' if restart is not None else ""
    out += f"<w:pStyle w:val={quoteattr(pstyle)}/>" if pstyle else ""
    out += "<w:isLgl/>" if is_lgl else ""
    out += f'<w:suff w:val="{suff}"/>' if suff else ""
    out += f"<w:lvlText w:val={quoteattr(text)}/>"
    return out + '<w:lvlJc w:val="left"/><w:pPr><w:ind w:left="0" w:firstLine="640"/></w:pPr></w:lvl>'


def abstract_num(aid: int, *levels: str) -> str:
    head = f'<w:abstractNum w:abstractNumId="{aid}"><w:multiLevelType w:val="multilevel"/>'
    return head + "".join(levels) + "</w:abstractNum>"


def num(nid: int, aid: int, overrides: str = "") -> str:
    """A w:num; `overrides` is raw w:lvlOverride markup (see `start_override`)."""
    return f'<w:num w:numId="{nid}"><w:abstractNumId w:val="{aid}"/>{overrides}</w:num>'


def start_override(ilvl: int, start: int) -> str:
    return f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'


def style(
    sid: str, name: str, *, based_on: str | None = None, num_id: int | None = None, ilvl: int | None = None
) -> str:
    """A paragraph style, optionally based on another and carrying numbering."""
    out = f'<w:style w:type="paragraph" w:styleId={quoteattr(sid)}><w:name w:val={quoteattr(name)}/>'
    out += f"<w:basedOn w:val={quoteattr(based_on)}/>" if based_on else ""
    ppr = ""
    if num_id is not None or ilvl is not None:
        ppr += "<w:numPr>"
        ppr += f'<w:ilvl w:val="{ilvl}"/>' if ilvl is not None else ""
        ppr += f'<w:numId w:val="{num_id}"/>' if num_id is not None else ""
        ppr += "</w:numPr>"
    out += f"<w:pPr>{ppr}</w:pPr>" if ppr else ""
    return out + "</w:style>"


_NORMAL = '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'


def table(rows: list[list[str]], *, cell_props: dict[tuple[int, int], str] | None = None) -> str:
    """A w:tbl; each cell is raw block markup (use `p`); `cell_props[(r, c)]` adds raw w:tcPr content."""
    cell_props = cell_props or {}
    width = max(len(r) for r in rows)
    out = '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>'
    out += '<w:gridCol w:w="2000"/>' * width + "</w:tblGrid>"
    for ri, row in enumerate(rows):
        out += "<w:tr>"
        for ci, cell in enumerate(row):
            props = cell_props.get((ri, ci), "")
            out += f"<w:tc>{f'<w:tcPr>{props}</w:tcPr>' if props else ''}{cell or '<w:p/>'}</w:tc>"
        out += "</w:tr>"
    return out + "</w:tbl>"


def field(instr: str, result: str) -> str:
    """A complex field (begin, instruction, separate, displayed result, end) as runs."""
    return (
        run(inner='<w:fldChar w:fldCharType="begin"/>')
        + run(inner=f'<w:instrText xml:space="preserve"> {escape(instr)} </w:instrText>')
        + run(inner='<w:fldChar w:fldCharType="separate"/>')
        + run(result)
        + run(inner='<w:fldChar w:fldCharType="end"/>')
    )


def textbox_drawingml(*paras: str, fallback: bool = True) -> str:
    """A run holding a text box as Word 2010+ writes it: DrawingML Choice plus a VML Fallback with the same text."""
    content = f"<w:txbxContent>{''.join(paras)}</w:txbxContent>"
    drawing = (
        '<w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="page"><wp:posOffset>0</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="page"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="5000000" cy="800000"/><wp:wrapNone/><wp:docPr id="1" name="Text Box 1"/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:wsp><wps:txbx>{content}</wps:txbx><wps:bodyPr/></wps:wsp>"
        "</a:graphicData></a:graphic></wp:anchor></w:drawing>"
    )
    if not fallback:
        return run(inner=drawing)
    vml = f'<w:pict><v:shape id="tb1" style="position:absolute"><v:textbox>{content}</v:textbox></v:shape></w:pict>'
    alt = (
        f'<mc:AlternateContent><mc:Choice Requires="wps">{drawing}</mc:Choice>'
        f"<mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent>"
    )
    return run(inner=alt)


def textbox_vml(*paras: str) -> str:
    """A run holding a legacy VML text box (w:pict), no alternate."""
    content = f"<w:txbxContent>{''.join(paras)}</w:txbxContent>"
    shape = f'<v:shape id="tb2" style="position:absolute"><v:textbox>{content}</v:textbox></v:shape>'
    return run(inner=f"<w:pict>{shape}</w:pict>")


def write_docx(
    path: Path,
    body: str,
    *,
    styles: str = "",
    numbering: str | None = None,
    footnotes: dict[int, str] | None = None,
    endnotes: dict[int, str] | None = None,
    header: str | None = None,
    footer: str | None = None,
    title: str | None = None,
) -> Path:
    """Write a minimal but complete .docx package.

    body: the content of w:body (a w:sectPr is added); styles: w:style elements (a default
    "Normal" is added); numbering: the content of w:numbering; footnotes/endnotes: id ->
    the note's paragraphs (separator notes -1 and 0 are added); header/footer: the content
    of w:hdr / w:ftr, referenced from the section; title: the core properties' title.
    """
    parts: dict[str, str] = {}
    rels = [("styles", "styles.xml")]
    overrides = {"/word/document.xml": f"{_CT}.document.main+xml", "/word/styles.xml": f"{_CT}.styles+xml"}
    parts["word/styles.xml"] = f"<w:styles {NS}>{_NORMAL}{styles}</w:styles>"
    if numbering is not None:
        parts["word/numbering.xml"] = f"<w:numbering {NS}>{numbering}</w:numbering>"
        rels.append(("numbering", "numbering.xml"))
        overrides["/word/numbering.xml"] = f"{_CT}.numbering+xml"
    for kind, notes in (("footnote", footnotes), ("endnote", endnotes)):
        if notes is None:
            continue
        xml = (
            f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
            f'<w:{kind} w:type="continuationSeparator" w:id="0">'
            f"<w:p><w:r><w:continuationSeparator/></w:r></w:p></w:{kind}>"
        )
        for nid, content in notes.items():
            xml += f'<w:{kind} w:id="{nid}">{content}</w:{kind}>'
        parts[f"word/{kind}s.xml"] = f"<w:{kind}s {NS}>{xml}</w:{kind}s>"
        rels.append((f"{kind}s", f"{kind}s.xml"))
        overrides[f"/word/{kind}s.xml"] = f"{_CT}.{kind}s+xml"
    sect = ""
    for kind, content in (("header", header), ("footer", footer)):
        if content is None:
            continue
        tag = "hdr" if kind == "header" else "ftr"
        parts[f"word/{kind}1.xml"] = f"<w:{tag} {NS}>{content}</w:{tag}>"
        rels.append((kind, f"{kind}1.xml"))
        overrides[f"/word/{kind}1.xml"] = f"{_CT}.{kind}+xml"
        sect += f'<w:{kind}Reference w:type="default" r:id="rId{len(rels)}"/>'
    parts["word/document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {NS}><w:body>{body}'
        f'<w:sectPr>{sect}<w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>'
    )
    parts["word/_rels/document.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/{k}" Target="{t}"/>' for i, (k, t) in enumerate(rels, 1))
        + "</Relationships>"
    )
    core = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        + (f"<dc:title>{escape(title)}</dc:title>" if title else "")
        + "</cp:coreProperties>"
    )
    parts["docProps/core.xml"] = core
    parts["_rels/.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/></Relationships>'
    )
    overrides["/docProps/core.xml"] = "application/vnd.openxmlformats-package.core-properties+xml"
    parts["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items())
        + "</Types>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", parts.pop("[Content_Types].xml"))
        for name, xml in parts.items():
            z.writestr(name, xml)
    return path


# ------------------------------------------------------------------ the policy pair

# (level, typed label, text): level 0..3 = 一、 / （一） / 1. / （1）; None = unnumbered.
POLICY_TITLE = "2024年全市教育工作要点"
POLICY: list[tuple[int | None, str, str]] = [
    (None, "", "2024年全市教育工作的总体要求是：以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，"
     "落实立德树人根本任务，加快建设教育强市，办好人民满意的教育。"),
    (0, "一、", "坚持党的全面领导，加强教育系统党的建设"),
    (1, "（一）", "强化理论武装。深入学习贯彻党的二十大精神，健全党委（党组）理论学习中心组学习制度，"
     "全年开展集中学习不少于12次。"),
    (1, "（二）", "夯实基层党建。"),
    (2, "1.", "实施中小学校党组织领导的校长负责制，年底前实现全覆盖。"),
    (2, "2.", "开展“一校一品”党建品牌创建活动，培育市级示范党组织20个。"),
    (2, "3.", "加强党员队伍建设，全年发展教师党员不少于300名。"),
    (1, "（三）", "加强党风廉政建设。落实全面从严治党主体责任，持续开展“清廉学校”建设。"),
    (0, "二、", "落实立德树人根本任务，促进学生全面发展"),
    (1, "（一）", "深化思政课改革创新。"),
    (2, "1.", "推进大中小学思政课一体化建设，组建思政课教学共同体30个。"),
    (3, "（1）", "每所学校每学期至少开展1次思政课集体备课。"),
    (3, "（2）", "校领导每学期为学生讲授思政课不少于4课时。"),
    (2, "2.", "建设一批思政教育实践基地，推动思政小课堂与社会大课堂相结合。"),
    (1, "（二）", "加强体育美育劳动教育。"),
    (2, "1.", "确保中小学生每天校内体育活动时间不少于1小时。"),
    (2, "2.", "全面推行劳动教育清单制度，每周安排不少于1课时劳动课。"),
    (1, "（三）", "加强学生心理健康工作。建立健全学生心理健康监测预警机制，配齐专职心理健康教师。"),
    (0, "三、", "推进教育优质均衡发展"),
    (1, "（一）", "扩大优质学前教育资源。新建、改扩建公办幼儿园15所，新增学位4500个。"),
    (1, "（二）", "推进义务教育优质均衡。"),
    (2, "1.", "深化集团化办学，新组建教育集团10个。"),
    (2, "2.", "落实“双减”工作要求。"),
    (3, "（1）", "严控书面作业总量，建立作业公示制度。"),
    (3, "（2）", "提升课后服务质量，参与率保持在95%以上。"),
    (3, "（3）", "持续规范校外培训，严查违规培训行为。"),
    (1, "（三）", "促进普通高中多样化特色发展。"),
    (0, "四、", "加强教师队伍建设"),
    (1, "（一）", "加强师德师风建设。将师德表现作为教师评价的首要标准，实行师德失范“一票否决”。"),
    (1, "（二）", "提升教师专业能力。实施名师名校长培养工程，培养市级骨干教师200名。"),
    (None, "", "各区县教育部门要结合实际，制定具体落实措施，确保各项任务落到实处。"),
]

_POLICY_NUMBERING = (
    abstract_num(
        10,
        lvl(0, "chineseCounting", "%1、", pstyle="Heading1"),  # suff: tab (the default)
        lvl(1, "chineseCounting", "（%2）", suff="nothing", pstyle="Heading2"),
        lvl(2, "decimal", "%3.", suff="tab"),
        lvl(3, "decimal", "（%4）", suff="space"),
    )
    + num(1, 10)
    + num(2, 10)  # a second num on the same abstractNum: continues the same list
)
_POLICY_STYLES = (
    style("HeadingBase", "heading base")
    + style("Heading1", "heading 1", based_on="HeadingBase", num_id=1)  # ilvl from the level's w:pStyle
    + style("Heading2", "heading 2", based_on="HeadingBase", num_id=1, ilvl=1)
    + style("Title", "Title")
)


def policy_pair(folder: Path) -> tuple[Path, Path]:
    """The same 工作要点 written with typed labels and with Word automatic numbering: (typed, auto).

    Auto: levels 一、/（一） come from Heading1/Heading2 styles (Heading1 gets its level from
    the abstractNum level's w:pStyle, Heading2 from its own ilvl), 1. is set on the
    paragraph with numId 1, （1） with numId 2, a second num sharing the abstractNum.
    """
    typed, auto = [p(POLICY_TITLE, style="Title")], [p(POLICY_TITLE, style="Title")]
    for level, label, text in POLICY:
        typed.append(p(label + text))
        if level == 0:
            auto.append(p(text, style="Heading1"))
        elif level == 1:
            auto.append(p(text, style="Heading2"))
        elif level == 2:
            auto.append(p(text, num_id=1, ilvl=2))
        elif level == 3:
            auto.append(p(text, num_id=2, ilvl=3))
        else:
            auto.append(p(text))
    a = write_docx(folder / "policy_typed.docx", "".join(typed), styles=_POLICY_STYLES, title=POLICY_TITLE)
    b = write_docx(
        folder / "policy_auto.docx",
        "".join(auto),
        styles=_POLICY_STYLES,
        numbering=_POLICY_NUMBERING,
        title=POLICY_TITLE,
    )
    return a, b


# ------------------------------------------------------------------ the regulation pair

REGULATION_TITLE = "某市城市绿化管理条例"
# (kind, typed label, text): chapter 第X章, article 第X条, item （X）, None = unnumbered paragraph (款).
REGULATION: list[tuple[str | None, str, str]] = [
    ("chapter", "第一章", "总则"),
    ("article", "第一条", "为了促进城市绿化事业的发展，改善生态环境，美化生活环境，根据有关法律、法规，"
     "结合本市实际，制定本条例。"),
    ("article", "第二条", "本条例适用于本市城市规划区内城市绿化的规划、建设、保护和管理。"),
    ("article", "第三条", "市绿化行政主管部门负责本市城市绿化工作。"),
    (None, "", "区绿化行政主管部门按照职责分工，负责本辖区内的城市绿化工作。"),
    ("article", "第四条", "城市绿化工作应当遵循统筹规划、生态优先、因地制宜、建管并重的原则。"),
    ("chapter", "第二章", "规划和建设"),
    ("article", "第五条", "市绿化行政主管部门应当会同规划部门编制城市绿地系统规划，报市人民政府批准后实施。"),
    ("article", "第六条", "城市绿地系统规划应当包括下列内容："),
    ("item", "（一）", "城市绿化目标和指标；"),
    ("item", "（二）", "城市绿地布局；"),
    ("item", "（三）", "公园绿地、防护绿地的建设要求；"),
    ("item", "（四）", "古树名木保护规划。"),
    ("article", "第七条", "新建居住区的绿地率不得低于百分之三十。"),
    ("article", "第八条", "城市绿化工程的设计，应当委托具有相应资质的设计单位承担。"),
    ("article", "第九条", "城市绿化工程竣工后，建设单位应当组织验收。"),
    ("chapter", "第三章", "保护和管理"),
    ("article", "第十条", "任何单位和个人不得擅自改变城市绿化规划用地性质，"
     "或者破坏绿化规划用地的地形、地貌、水体和植被。"),
    ("article", "第十一条", "禁止下列损害城市绿化的行为："),
    ("item", "（一）", "在绿地内倾倒垃圾、堆放杂物；"),
    ("item", "（二）", "攀折、剥损树木；"),
    ("item", "（三）", "擅自在树木上悬挂广告牌。"),
    ("article", "第十二条", "砍伐城市树木，应当经绿化行政主管部门批准，并按照规定补植树木。"),
    ("article", "第十三条", "古树名木实行统一管理、分级养护。"),
    ("article", "第十四条", "城市绿地的养护单位应当建立养护管理制度，保证绿地整洁美观。"),
    ("chapter", "第四章", "法律责任"),
    ("article", "第十五条", "违反本条例第十条规定的，由绿化行政主管部门责令限期改正，并处以罚款。"),
    ("article", "第十六条", "违反本条例第十一条规定的，由绿化行政主管部门责令停止侵害，可以并处罚款。"),
    ("article", "第十七条", "绿化行政主管部门工作人员玩忽职守、滥用职权、徇私舞弊的，依法给予处分。"),
    ("chapter", "第五章", "附则"),
    ("article", "第十八条", "本条例自2025年1月1日起施行。"),
    ("article", "第十九条", "本条例施行前的有关规定与本条例不一致的，以本条例为准。"),
    ("article", "第二十条", "本条例由市人民代表大会常务委员会负责解释。"),
    ("article", "第二十一条", "本条例的具体应用问题，由市绿化行政主管部门负责解释。"),
]

# One abstractNum: chapters at level 0 ("第%1章", space), articles at level 1 ("第%2条", tab,
# lvlRestart 0 so they run on across chapters), items at level 2 ("（%3）", restarting per article).
_REGULATION_NUMBERING = (
    abstract_num(
        20,
        lvl(0, "chineseCounting", "第%1章", suff="space", pstyle="Chapter"),
        lvl(1, "chineseCounting", "第%2条", restart=0),
        lvl(2, "chineseCounting", "（%3）", suff="nothing"),
    )
    + num(3, 20)
)
_REGULATION_STYLES = style("ChapterBase", "chapter base", num_id=3) + style(
    "Chapter", "chapter", based_on="ChapterBase"
)


def regulation_pair(folder: Path) -> tuple[Path, Path]:
    """A regulation with 第X章 chapters, 第X条 articles and （X） items, typed and with auto numbering: (typed, auto).

    Auto: chapters take numbering from their style through basedOn (level from the level's
    w:pStyle); articles and items carry numPr; the article counter never restarts
    (lvlRestart 0), the items restart after every article.
    """
    typed, auto = [p(REGULATION_TITLE)], [p(REGULATION_TITLE)]
    for kind, label, text in REGULATION:
        sep = "\u3000" if kind in ("chapter", "article") else ""
        typed.append(p(label + sep + text))
        if kind == "chapter":
            auto.append(p(text, style="Chapter"))
        elif kind == "article":
            auto.append(p(text, num_id=3, ilvl=1))
        elif kind == "item":
            auto.append(p(text, num_id=3, ilvl=2))
        else:
            auto.append(p(text))
    a = write_docx(folder / "regulation_typed.docx", "".join(typed), styles=_REGULATION_STYLES)
    b = write_docx(
        folder / "regulation_auto.docx", "".join(auto), styles=_REGULATION_STYLES, numbering=_REGULATION_NUMBERING
    )
    return a, b


def regulation_two_lists(folder: Path) -> Path:
    """The auto regulation with chapters and articles in two different abstractNums (the other common way)."""
    numbering = (
        abstract_num(30, lvl(0, "chineseCountingThousand", "第%1章", suff="space"))
        + abstract_num(
            31, lvl(0, "chineseCountingThousand", "第%1条"), lvl(1, "chineseCounting", "（%2）", suff="nothing")
        )
        + num(1, 30)
        + num(2, 31)
    )
    body = [p(REGULATION_TITLE)]
    for kind, _label, text in REGULATION:
        if kind == "chapter":
            body.append(p(text, num_id=1, ilvl=0))
        elif kind == "article":
            body.append(p(text, num_id=2, ilvl=0))
        elif kind == "item":
            body.append(p(text, num_id=2, ilvl=1))
        else:
            body.append(p(text))
    return write_docx(folder / "regulation_two_lists.docx", "".join(body), numbering=numbering)


# ------------------------------------------------------------------ numbering formats and restarts


def numbering_formats(folder: Path) -> Path:
    """Restarts and formats; the expected lines are `NUMBERING_FORMATS_LINES`."""
    numbering = (
        abstract_num(1, lvl(0, "decimal", "%1."), lvl(1, "decimalEnclosedCircle", "%2", suff="nothing"))
        + abstract_num(2, lvl(0, "ideographTraditional", "%1、"))
        + abstract_num(3, lvl(0, "chineseCountingThousand", "第%1条", start=101))
        + abstract_num(4, lvl(0, "chineseCountingThousand", "%1、", start=110))
        + abstract_num(5, lvl(0, "chineseCountingThousand", "%1、", start=999))
        + abstract_num(
            6,
            lvl(0, "chineseCounting", "第%1章", suff="space"),
            lvl(1, "decimal", "%1.%2", is_lgl=True, suff="space"),
        )
        + abstract_num(7, lvl(0, "upperRoman", "%1."), lvl(1, "lowerLetter", "(%2)", suff="nothing"))
        + abstract_num(8, lvl(0, "bullet", "\uf0b7"), lvl(1, "none", "", suff="nothing"))
        + abstract_num(9, lvl(0, "decimalZero", "%1"), lvl(1, "decimalFullWidth", "%2．", suff="nothing"))
        + num(1, 1)
        + num(2, 1)  # same abstractNum, no override: continues
        + num(3, 1, start_override(0, 1))  # restarts at 1
        + num(4, 2)
        + num(5, 3)
        + num(6, 4)
        + num(7, 5)
        + num(8, 6)
        + num(9, 7)
        + num(10, 8)
        + num(11, 9)
        + num(  # a whole level overridden: other format, starting at 5
            12,
            1,
            f'<w:lvlOverride w:ilvl="0">{lvl(0, "chineseCounting", "%1）", start=5, suff="nothing")}</w:lvlOverride>',
        )
    )
    body = [
        p("甲", num_id=1, ilvl=0),
        p("子项", num_id=1, ilvl=1),
        p("子项", num_id=1, ilvl=1),
        p("乙", num_id=2, ilvl=0),
        p("子项", num_id=2, ilvl=1),
        p("重新编号", num_id=3, ilvl=0),
        p("继续", num_id=3, ilvl=0),
        p("天干", num_id=4, ilvl=0),
        p("天干", num_id=4, ilvl=0),
        p("天干", num_id=4, ilvl=0),
        p("天干", num_id=4, ilvl=0),
        p("一百零一", num_id=5, ilvl=0),
        p("一百零二", num_id=5, ilvl=0),
        p("一百一十", num_id=6, ilvl=0),
        p("一百一十一", num_id=6, ilvl=0),
        p("九百九十九", num_id=7, ilvl=0),
        p("一千", num_id=7, ilvl=0),
        p("一千零一", num_id=7, ilvl=0),
        p("总则", num_id=8, ilvl=0),
        p("目的", num_id=8, ilvl=1),
        p("范围", num_id=8, ilvl=1),
        p("附则", num_id=8, ilvl=0),
        p("施行", num_id=8, ilvl=1),
        p("Scope", num_id=9, ilvl=0),
        p("terms", num_id=9, ilvl=1),
        p("definitions", num_id=9, ilvl=1),
        p("要点一", num_id=10, ilvl=0),
        p("无编号", num_id=10, ilvl=1),
        p("零填充", num_id=11, ilvl=0),
        p("全角", num_id=11, ilvl=1),
        p("不编号", num_id=0),
        p("改格式", num_id=12, ilvl=0),
        p("改格式", num_id=12, ilvl=0),
    ]
    return write_docx(folder / "numbering_formats.docx", "".join(body), numbering=numbering)


NUMBERING_FORMATS_LINES = [
    "1.甲",
    "①子项",
    "②子项",
    "2.乙",
    "①子项",
    "1.重新编号",
    "2.继续",
    "甲、天干",
    "乙、天干",
    "丙、天干",
    "丁、天干",
    "第一百零一条\u3000一百零一",
    "第一百零二条\u3000一百零二",
    "一百一十、一百一十",
    "一百一十一、一百一十一",
    "九百九十九、九百九十九",
    "一千、一千",
    "一千零一、一千零一",
    "第一章\u3000总则",
    "1.1 目的",
    "1.2 范围",
    "第二章\u3000附则",
    "2.1 施行",
    "I.Scope",
    "(a)terms",
    "(b)definitions",
    "要点一",
    "无编号",
    "01 零填充",
    "１．全角",
    "不编号",
    "五）改格式",
    "六）改格式",
]


# ------------------------------------------------------------------ tables, notes, text boxes, furniture


def table_doc(folder: Path) -> Path:
    """A captioned table: header row, a horizontally and a vertically merged cell, a nested
    table, numbering and a footnote in cells; then a one-column frame table. Expected: `TABLE_LINES`."""
    numbering = abstract_num(1, lvl(0, "decimal", "%1.")) + num(1, 1)
    nested = table([[p("子任务A"), p("3月")], [p("子任务B"), p("6月")]])
    main = table(
        [
            [p("序号"), p("重点任务"), p("牵头单位"), p("完成时限")],
            [p("1"), p("建设智慧校园"), p("市教育局"), p("2024年底")],
            [p("2"), p("推进课程改革", inner=run(inner='<w:footnoteReference w:id="7"/>')), p("市教研室"), p("9月")],
            [p("3"), p(""), p("市教科院"), p("2025年6月")],
            [p("4"), p("完善评价体系") + p("开展试点", num_id=1), p("市考试院")],
            [p("5"), p("教师培训") + nested, p("市教师发展中心"), p("全年")],
            [p(""), p(""), p(""), p("")],
        ],
        cell_props={(2, 1): '<w:vMerge w:val="restart"/>', (3, 1): "<w:vMerge/>", (4, 2): '<w:gridSpan w:val="2"/>'},
    )
    frame = table([[p("一、工作目标") + p("全面提升办学质量。")]])
    body = (
        p("表1 2024年重点任务分工表")
        + main
        + p("以上任务按季度调度。")
        + frame
        + p("附表 责任清单")
        + table([[p("单位"), p("责任")], [p("各学校"), p("抓好落实")]])
    )
    return write_docx(
        folder / "table.docx",
        body,
        numbering=numbering,
        footnotes={7: p("课程改革方案另行印发。")},
    )


TABLE_LINES = [
    "表1 2024年重点任务分工表",
    "序号\t重点任务\t牵头单位\t完成时限",
    "序号：1；重点任务：建设智慧校园；牵头单位：市教育局；完成时限：2024年底",
    "序号：2；重点任务：推进课程改革[注1]；牵头单位：市教研室；完成时限：9月",
    "序号：3；重点任务：推进课程改革[注1]；牵头单位：市教科院；完成时限：2025年6月",  # merged down: in each row
    "序号：4；重点任务：完善评价体系 1.开展试点；牵头单位：市考试院",  # merged across: the value once
    "序号：5；重点任务：教师培训 子任务A 3月 子任务B 6月；牵头单位：市教师发展中心；完成时限：全年",
    "[注1] 课程改革方案另行印发。",
    "以上任务按季度调度。",
    "一、工作目标",
    "全面提升办学质量。",
    "附表 责任清单",
    "单位\t责任",
    "单位：各学校；责任：抓好落实",
]


def notes_doc(folder: Path) -> Path:
    """Footnotes cited out of w:id order, one cited in a heading, and an endnote. Expected: `NOTES_LINES`."""
    fn = lambda i: run(inner=f'<w:footnoteReference w:id="{i}"/>')  # noqa: E731
    body = (
        p("一、总体要求", inner=fn(5))
        + p("根据《教育强国建设规划纲要》", inner=fn(2) + run("，结合本市实际，制定本方案。"))
        + p("到2027年，基本建成教育强市", inner=run(inner='<w:endnoteReference w:id="3"/>') + run("。"))
        + p("二、主要任务")
    )
    footnotes = {
        2: p("", inner=run(inner="<w:footnoteRef/>") + run(" 中共中央、国务院2025年印发。")),
        5: p("本方案所称学校包括中小学和幼儿园。") + p("不含民办培训机构。"),
    }
    endnotes = {3: p("", inner=run(inner="<w:endnoteRef/>") + run(" 指标体系见附件。"))}
    return write_docx(folder / "notes.docx", body, footnotes=footnotes, endnotes=endnotes)


NOTES_LINES = [
    "一、总体要求[注1]",
    "[注1] 本方案所称学校包括中小学和幼儿园。 不含民办培训机构。",
    "根据《教育强国建设规划纲要》[注2]，结合本市实际，制定本方案。",
    "[注2] 中共中央、国务院2025年印发。",
    "到2027年，基本建成教育强市[尾注1]。",
    "[尾注1] 指标体系见附件。",
    "二、主要任务",
]


def textbox_doc(folder: Path) -> Path:
    """A 红头 in a text box (DrawingML with VML fallback: must be read once), a VML-only box,
    a numbered paragraph inside a box. Expected: `TEXTBOX_LINES`."""
    numbering = abstract_num(1, lvl(0, "chineseCounting", "%1、")) + num(1, 1)
    body = (
        p("", inner=textbox_drawingml(p("某市教育局文件")))
        + p("某教发〔2024〕5号")
        + p("关于印发2024年工作要点的通知", inner=textbox_vml(p("签发人：张三")))
        + p("总体要求", num_id=1)
        + p("", inner=textbox_drawingml(p("重点任务", num_id=1), p("（略）"), fallback=False))
        + p("保障措施", num_id=1)
    )
    return write_docx(folder / "textbox.docx", body, numbering=numbering)


TEXTBOX_LINES = [
    "某市教育局文件",
    "",
    "某教发〔2024〕5号",
    "签发人：张三",
    "关于印发2024年工作要点的通知",
    "一、总体要求",
    "二、重点任务",
    "（略）",
    "",
    "三、保障措施",
]


def furniture_doc(folder: Path) -> Path:
    """Running header and footer with page-number fields (left out), and body fields, revisions,
    hidden text, breaks and tabs. Expected: `FURNITURE_LINES`."""
    header = p("某市人民政府办公室文件")
    footer = p("— ", inner=field("PAGE", "3") + run(" —")) + p(
        "", inner='<w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>12</w:t></w:r></w:fldSimple>'
    )
    toc = (
        p("目录")
        + p("", inner=run(inner='<w:fldChar w:fldCharType="begin"/>')
            + run(inner='<w:instrText xml:space="preserve"> TOC \\o "1-3" \\h </w:instrText>')
            + run(inner='<w:fldChar w:fldCharType="separate"/>') + run("一、总则") + run(inner="<w:tab/>") + run("1"))
        + p("二、附则", inner=run(inner="<w:tab/>") + run("2") + run(inner='<w:fldChar w:fldCharType="end"/>'))
    )  # fmt: skip
    body = (
        toc
        + p("本办法自", inner=field('DATE \\@ "yyyy年M月d日"', "2024年5月1日") + run("起施行。"))
        + p(
            "",
            inner='<w:del w:id="1" w:author="a"><w:r><w:delText>原定</w:delText></w:r></w:del>'
            '<w:ins w:id="2" w:author="a"><w:r><w:t>现定</w:t></w:r></w:ins>'
            + run("于年底前完成")
            + run("（内部备注）", rpr="<w:vanish/>")
            + run("。"),
        )
        + p("关于进一步加强", inner=run(inner="<w:br/>") + run("城市管理的通知"))
        + p("一、总体要求。", inner=run(inner="<w:br/>") + run("二、工作任务。"))
        + p("联系人：", inner=run(inner="<w:tab/>") + run("李四"))
        + p("Smart", inner=run(inner="<w:br/>") + run("City"))
        + p("前一段", ppr='<w:rPr><w:del w:id="3" w:author="a"/></w:rPr>')
        + p("与下一段合并。")
        + p("", inner=f'<w:fldSimple w:instr=" SEQ 表 ">{run("2")}</w:fldSimple>')
    )
    return write_docx(folder / "furniture.docx", body, header=header, footer=footer, title="某市城市管理办法")


FURNITURE_LINES = [
    "目录",
    "本办法自2024年5月1日起施行。",
    "现定于年底前完成。",
    "关于进一步加强城市管理的通知",
    "一、总体要求。\n二、工作任务。",
    "联系人： 李四",
    "Smart City",
    "前一段与下一段合并。",
    "2",
]
