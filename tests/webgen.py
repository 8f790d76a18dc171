# ruff: noqa: E501  (fixture pages keep their HTML lines whole)
"""Fixture web pages laid out like Chinese government sites, with the body lines each must give.

Each `Page` is a whole saved page (top nav, breadcrumb, 信息公开 box, body, toolbars, 相关链接,
footer) and the gold: the exact body lines a reader should return, the metadata the box
states, the title, and chrome strings that must not appear in the text. The documents are
made up (places like 江南省/青山市/白水市 do not exist); the page layouts follow common
government CMS templates: gov.cn's policy library, a provincial portal, an old table-layout
GB2312 bureau site, an HTML5 district 信息公开 page, an editor-pasted (<section>/<span>)
page, a <br>-separated GBK page, and the repo's sample text put back into the template-site
page it was copied from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_TXT = REPO / "corpus" / "2022年教育系统党建工作计划3篇.txt"
SHARED_SAMPLE_TXT = REPO.parent / "shared" / "corpora" / "sample" / "2022年教育系统党建工作计划3篇.txt"

# Chrome strings no page's text may contain.
CHROME = ("大 中 小", "打印本页", "关闭窗口", "网站标识码", "主办单位", "相关链接")


@dataclass(frozen=True)
class Page:
    """One fixture page and what a reader should get from it."""

    name: str
    html: str
    encoding: str  # bytes written with this codec
    title: str
    body: tuple[str, ...]  # the exact lines of the text
    meta: dict[str, str] = field(default_factory=dict)
    chrome: tuple[str, ...] = ()  # strings shown on the page that are not body

    def data(self) -> bytes:
        return self.html.encode(self.encoding)

    def write(self, folder: Path) -> Path:
        """Write the page as `folder/<name>.html`; return its path."""
        path = Path(folder) / f"{self.name}.html"
        path.write_bytes(self.data())
        return path


# ---------------------------------------------------------------- 1. gov.cn policy library page

_GOV_TITLE = "国务院办公厅关于进一步做好最低生活保障等社会救助兜底保障工作的通知"

GOV_CN = Page(
    name="gov_cn_policy",
    encoding="utf-8",
    title=_GOV_TITLE,
    html=f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="ArticleTitle" content="{_GOV_TITLE}">
<meta name="PubDate" content="2023-10-20 17:30">
<meta name="ContentSource" content="中国政府网">
<title>{_GOV_TITLE}_国务院文件_中国政府网</title>
<link rel="stylesheet" href="/css/common.css">
<style>.bd1 td {{ border: 1px solid #d7d7d7; }} p {{ text-indent: 2em; }}</style>
<script>var _hmt = _hmt || []; document.write("<div>统计代码</div>");</script>
</head>
<body>
<div class="header">
  <div class="logo"><a href="/"><img src="/images/logo.png" alt="中国政府网"></a></div>
  <ul class="nav">
    <li><a href="/">首页</a></li>
    <li><a href="/zhengce/">政策</a></li>
    <li><a href="/xinwen/">新闻</a></li>
    <li><a href="/hudong/">互动</a></li>
    <li><a href="/fuwu/">服务</a></li>
    <li><a href="/shuju/">数据</a></li>
  </ul>
  <form class="search" action="/search"><input type="text" name="q" value="请输入关键词"><button>搜索</button></form>
</div>
<div class="BreadcrumbNav">当前位置：<a href="/">首页</a> &gt; <a href="/zhengce/">政策</a> &gt; <a href="/zhengce/xxgk/">国务院政策文件库</a></div>
<div class="policyLibraryOverview_header">
<table class="bd1" cellpadding="0" cellspacing="1" width="100%">
<tbody>
<tr>
<td width="90"><b>索&nbsp;&nbsp;引&nbsp;&nbsp;号：</b></td><td>000014349/2023-00045</td>
<td width="90"><b>主题分类：</b></td><td>劳动、人事、监察\\民政、扶贫、救灾</td>
</tr>
<tr>
<td><b>发文机关：</b></td><td>国务院办公厅</td>
<td><b>成文日期：</b></td><td>2023年10月16日</td>
</tr>
<tr>
<td><b>标　　题：</b></td><td colspan="3">{_GOV_TITLE}</td>
</tr>
<tr>
<td><b>发文字号：</b></td><td>国办发〔2023〕39号</td>
<td><b>发布日期：</b></td><td>2023年10月20日</td>
</tr>
</tbody>
</table>
</div>
<div class="article oneColumn pub_border">
<div class="pages-date">2023-10-20 17:30 <span class="font">来源： 中国政府网</span>
<span class="font index_switchsize">【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</span>
<span class="font printIco" onclick="window.print()">打印</span></div>
<div class="pages_content" id="UCAP-CONTENT">
<p style="text-align: center;">国办发〔2023〕39号</p>
<p>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：</p>
<p>　　最低生活保障等社会救助制度是保障基本民生、促进社会公平、维护社会稳定的兜底性、基础性制度安排。
  为进一步做好有关工作，经国务院同意，现就有关事项通知如下：</p>
<p>　　<strong>一、加强低收入人口动态监测</strong></p>
<p>　　（一）<strong>完善监测对象范围。</strong>低收入人口主要包括最低生活保障对象、特困人员、
        防止返贫监测对象、最低生活保障边缘家庭成员。</p>
<p>　　（二）<span style="font-family: 楷体;">加强监测预警。</span>各地要依托<a href="http://www.mca.gov.cn/">低收入人口动态监测信息平台</a>，
及时预警、精准救助、动态管理。</p>
<p>　　<b>二、</b><b>健全分层分类的社会救助体系</b></p>
<p>　　1.最低生活保障。对共同生活的家庭成员人均收入低于当地最低生活保障标准的家庭，按规定纳入最低生活保障范围。</p>
<p>　　2.特困人员救助供养。对无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人，按规定纳入特困人员救助供养范围。</p>
<p style="text-align: center;">表1　最低生活保障平均标准</p>
<table border="1" cellspacing="0" align="center">
<tbody>
<tr><td><p>项目</p></td><td><p>2022年</p></td><td><p>2023年</p></td></tr>
<tr><td><p>城市低保（元/人·月）</p></td><td><p>752</p></td><td><p>783</p></td></tr>
<tr><td><p>农村低保（元/人·月）</p></td><td><p>582</p></td><td><p>621</p></td></tr>
</tbody>
</table>
<p>　　<strong>三、强化组织实施</strong></p>
<p>　　各地区各有关部门要把社会救助兜底保障工作摆在突出位置，加强统筹协调。</p>
<p>　　附件：<a href="P020231020599424371953.doc">1.社会救助兜底保障工作任务分工.doc</a></p>
<p style="text-align: right;">国务院办公厅</p>
<p style="text-align: right;">2023年10月16日</p>
<p>　　（此件公开发布）</p>
</div>
<div class="editor">【我要纠错】 责任编辑：王洋</div>
<div class="share">分享到：<a class="wx" href="#">微信</a> <a class="wb" href="#">微博</a></div>
<div class="related">
  <h3>相关链接</h3>
  <ul>
    <li><a href="/zhengce/1.htm">民政部有关负责人就《通知》答记者问</a></li>
    <li><a href="/zhengce/2.htm">国务院关于进一步加强和改进最低生活保障工作的意见</a></li>
    <li><a href="/zhengce/3.htm">社会救助暂行办法</a></li>
  </ul>
</div>
<div class="print">【<a href="javascript:window.print()">打印本页</a>】　【<a href="javascript:window.close()">关闭窗口</a>】</div>
</div>
<div class="footer">
  <p><a href="/about.htm">联系我们</a> | <a href="/sitemap.htm">网站地图</a></p>
  <p>主办单位：国务院办公厅　运行维护单位：中国政府网运行中心</p>
  <p>版权所有：中国政府网　中文域名：中国政府网.政务</p>
  <p>网站标识码bm01000001　京ICP备05070218号　京公网安备11010202000001号</p>
</div>
<script src="/js/share.js"></script>
<script>$(function(){{ $("#UCAP-CONTENT p").css("font-size", "16px"); }});</script>
</body>
</html>
""",
    body=(
        "国办发〔2023〕39号",
        "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：",
        "最低生活保障等社会救助制度是保障基本民生、促进社会公平、维护社会稳定的兜底性、基础性制度安排。"
        "为进一步做好有关工作，经国务院同意，现就有关事项通知如下：",
        "一、加强低收入人口动态监测",
        "（一）完善监测对象范围。低收入人口主要包括最低生活保障对象、特困人员、防止返贫监测对象、最低生活保障边缘家庭成员。",
        "（二）加强监测预警。各地要依托低收入人口动态监测信息平台，及时预警、精准救助、动态管理。",
        "二、健全分层分类的社会救助体系",
        "1.最低生活保障。对共同生活的家庭成员人均收入低于当地最低生活保障标准的家庭，按规定纳入最低生活保障范围。",
        "2.特困人员救助供养。对无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人，"
        "按规定纳入特困人员救助供养范围。",
        "表1　最低生活保障平均标准",
        "项目\t2022年\t2023年",
        "项目：城市低保（元/人·月）；2022年：752；2023年：783",
        "项目：农村低保（元/人·月）；2022年：582；2023年：621",
        "三、强化组织实施",
        "各地区各有关部门要把社会救助兜底保障工作摆在突出位置，加强统筹协调。",
        "附件：1.社会救助兜底保障工作任务分工.doc",
        "国务院办公厅",
        "2023年10月16日",
        "（此件公开发布）",
    ),
    meta={
        "index_no": "000014349/2023-00045",
        "topic": "劳动、人事、监察\\民政、扶贫、救灾",
        "issuer": "国务院办公厅",
        "date": "2023-10-16",
        "published": "2023-10-20",
        "title": _GOV_TITLE,
        "doc_number": "国办发〔2023〕39号",
    },
    chrome=("当前位置", "国务院政策文件库", "索引号", "000014349", "来源： 中国政府网", "责任编辑", "分享到", "答记者问", "搜索",
            "运行维护单位", "京ICP备"),
)  # fmt: skip

# ---------------------------------------------------------------- 2. provincial portal, <ul> box, no <h1>

_PROV_TITLE = "江南省民政厅关于印发《江南省养老服务补贴管理办法》的通知"

PROVINCE = Page(
    name="province_portal",
    encoding="utf-8",
    title=_PROV_TITLE,
    html=f"""<!doctype html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_PROV_TITLE} - 江南省人民政府门户网站</title>
<script type="text/javascript" src="/js/jquery.min.js"></script>
</head>
<body>
<div id="top-bar"><div class="w1200"><span>今天是：<script>document.write(new Date().toLocaleDateString())</script></span>
<a href="/wza/">无障碍</a> <a href="/en/">English</a> <a href="/m/">手机版</a> <a href="/login">登录</a></div></div>
<div class="mainNav">
<a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/zwfw/">政务服务</a><a href="/hdjl/">互动交流</a><a href="/zjjn/">走进江南</a>
</div>
<div class="crumbs">您的位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/wjk/">文件库</a></div>
<div class="w1200 clearfix">
<div class="col-left">
<div class="classify">
<ul>
<li><label>索引号：</label><span>11440000006939613X/2023-00102</span></li>
<li><label>分类：</label><span>民政、扶贫、救灾</span></li>
<li><label>发布机构：</label><span>江南省民政厅</span></li>
<li><label>成文日期：</label><span>2023-06-28</span></li>
<li class="wide"><label>名称：</label><span>{_PROV_TITLE}</span></li>
<li><label>文号：</label><span>江南民规〔2023〕3号</span></li>
<li><label>发布日期：</label><span>2023-07-05</span></li>
</ul>
</div>
<h2 class="zw-title">{_PROV_TITLE}</h2>
<div class="zw-info">
<span>发布日期：2023-07-05</span>　<span>来源：江南省民政厅</span>
<span class="zoom">字号：【<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】</span>
</div>
<div class="article-content zw">
<p style="text-indent:2em">各地级以上市民政局：</p>
<p>　　现将《江南省养老服务补贴管理办法》印发给你们，请认真贯彻执行。执行中遇到的问题，请径向省民政厅反映。</p>
<p style="text-align:right">江南省民政厅</p>
<p style="text-align:right">2023年6月28日</p>
<p style="text-align:center"><strong>江南省养老服务补贴管理办法</strong></p>
<p style="text-align:center"><font face="黑体">第一章　总　　则</font></p>
<p>　　<strong>第一条</strong>　为规范养老服务补贴管理，根据<a href="/fg/lnrqy.html">《中华人民共和国老年人权益保障法》</a>等
    法律法规，结合本省实际，制定本办法。</p>
<p>　　<strong>第二条</strong>　本办法适用于本省行政区域内养老服务补贴的申请、审核、
<span style="color:#333">发放</span>和监督管理。</p>
<p>&nbsp;&nbsp;&nbsp;&nbsp;<strong>第三条</strong>　养老服务补贴对象为具有本省户籍、年满60周岁的下列老年人：<br>
&nbsp;&nbsp;&nbsp;&nbsp;（一）最低生活保障家庭中的老年人；<br>
&nbsp;&nbsp;&nbsp;&nbsp;（二）特困供养人员中的老年人；<br>
&nbsp;&nbsp;&nbsp;&nbsp;（三）经认定的低收入家庭中失能的老年人。</p>
<p style="text-align:center"><font face="黑体">第二章　申请与审核</font></p>
<p>　　<strong>第四条</strong>　申请人可以通过“江南办事”小程序
或者拨打
12345
政务服务热线咨询。</p>
<p>　　<strong>第五条</strong>　本办法自2023年8月1日起施行，有效期5年。</p>
</div>
<div class="zw-tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
<div class="xgyd">
<div class="hd">相关阅读：</div>
<ul>
<li><a href="/zcjd/1.html">图解：《江南省养老服务补贴管理办法》</a></li>
<li><a href="/zcjd/2.html">一图读懂养老服务补贴怎么申请</a></li>
<li><a href="/zcjd/3.html">省民政厅解读养老服务补贴政策</a></li>
</ul>
</div>
</div>
<div class="col-right">
<h4>热点专题</h4>
<ul>
<li><a href="/zt/1/">学习贯彻党的二十大精神</a></li>
<li><a href="/zt/2/">优化营商环境</a></li>
<li><a href="/zt/3/">民生实事</a></li>
<li><a href="/zt/4/">乡村振兴</a></li>
</ul>
<div class="contact"><p>省民政厅值班电话：020-12345678</p><p>地址：江南市东风中路305号</p></div>
</div>
</div>
<div id="footer">
<p>主办：江南省人民政府办公厅　承办：江南省政务服务数据管理局</p>
<p>网站标识码：4400000118　<a href="https://beian.miit.gov.cn/">江ICP备05070829号</a>　江公网安备44010402001234号</p>
<p><a href="/lxwm/">联系我们</a>　<a href="/wzdt/">网站地图</a>　<a href="/sysm/">使用说明</a></p>
</div>
</body>
</html>
""",
    body=(
        _PROV_TITLE,
        "各地级以上市民政局：",
        "现将《江南省养老服务补贴管理办法》印发给你们，请认真贯彻执行。执行中遇到的问题，请径向省民政厅反映。",
        "江南省民政厅",
        "2023年6月28日",
        "江南省养老服务补贴管理办法",
        "第一章　总　　则",
        "第一条　为规范养老服务补贴管理，根据《中华人民共和国老年人权益保障法》等法律法规，结合本省实际，制定本办法。",
        "第二条　本办法适用于本省行政区域内养老服务补贴的申请、审核、发放和监督管理。",
        "第三条　养老服务补贴对象为具有本省户籍、年满60周岁的下列老年人：",
        "（一）最低生活保障家庭中的老年人；",
        "（二）特困供养人员中的老年人；",
        "（三）经认定的低收入家庭中失能的老年人。",
        "第二章　申请与审核",
        "第四条　申请人可以通过“江南办事”小程序或者拨打 12345 政务服务热线咨询。",
        "第五条　本办法自2023年8月1日起施行，有效期5年。",
    ),
    meta={
        "index_no": "11440000006939613X/2023-00102",
        "topic": "民政、扶贫、救灾",
        "issuer": "江南省民政厅",
        "date": "2023-06-28",
        "published": "2023-07-05",
        "title": _PROV_TITLE,
        "doc_number": "江南民规〔2023〕3号",
    },
    chrome=("今天是", "无障碍", "您的位置", "索引号", "来源", "字号", "相关阅读", "图解", "热点专题", "值班电话",
            "承办", "网站标识码", "使用说明"),
)  # fmt: skip

# ---------------------------------------------------------------- 3. old table-layout GB2312 bureau site

_BUREAU_TITLE = "关于做好2022年度城乡居民最低生活保障年审工作的通知"

BUREAU = Page(
    name="bureau_table_layout",
    encoding="gb18030",  # declared gb2312, as such sites do, with characters outside it
    title=_BUREAU_TITLE,
    html=f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{_BUREAU_TITLE}-青山市民政局</title>
<link href="/css/style.css" rel="stylesheet" type="text/css">
</head>
<body leftmargin="0" topmargin="0">
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr><td><img src="/images/banner.jpg" width="1000" height="150"></td></tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="menu">
  <tr>
    <td><a href="/">首页</a></td><td><a href="/jggk/">机构概况</a></td><td><a href="/zwgk/">政务公开</a></td>
    <td><a href="/bszn/">办事指南</a></td><td><a href="/hdjl/">互动交流</a></td>
  </tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">
<tr>
<td width="220" valign="top">
  <table width="100%" border="0" cellspacing="0" cellpadding="0">
    <tr><td class="lm">政务公开</td></tr>
    <tr><td><a href="/tzgg/">通知公告</a></td></tr>
    <tr><td><a href="/zcfg/">政策法规</a></td></tr>
    <tr><td><a href="/gzdt/">工作动态</a></td></tr>
    <tr><td><a href="/rsxx/">人事信息</a></td></tr>
  </table>
</td>
<td width="780" valign="top">
  <table width="100%" border="0" cellspacing="0" cellpadding="0">
    <tr><td height="30">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="/tzgg/">通知公告</a></td></tr>
  </table>
  <table width="96%" border="0" align="center" cellpadding="0" cellspacing="0">
    <tr><td class="title" align="center"><strong><font size="4">{_BUREAU_TITLE}</font></strong></td></tr>
    <tr><td align="center" class="info">发布日期：2022-03-15&nbsp;&nbsp;&nbsp;来源：市民政局&nbsp;&nbsp;&nbsp;点击数：<script>document.write("1234")</script></td></tr>
    <tr><td class="content">
<p class=MsoNormal><span style='font-family:仿宋_GB2312'>各县（市、区）民政局：<span lang=EN-US><o:p></o:p></span></span></p>
<p class=MsoNormal style='text-indent:32.0pt'><span style='font-family:仿宋_GB2312'>根据《社会救助暂行办法》和《江南省最低生活保障办法》有关规定，现就做好</span><span
lang=EN-US style='font-family:仿宋_GB2312'>2022</span><span style='font-family:仿宋_GB2312'>年度城乡居民最低生活保障年审工作通知如下：</span></p>
<div>&nbsp;&nbsp;&nbsp;&nbsp;<b>一、年审范围</b><br>
&nbsp;&nbsp;&nbsp;&nbsp;截至2021年12月31日已纳入城乡居民最低生活保障的家庭。<br>
&nbsp;&nbsp;&nbsp;&nbsp;<b>二、时间安排</b></div>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>
 <tr>
  <td width=150><p class=MsoNormal align=center><b><span>时间节点</span></b></p></td>
  <td width=400><p class=MsoNormal align=center><b><span>工作内容</span></b></p></td>
 </tr>
 <tr>
  <td><p class=MsoNormal><span lang=EN-US>3</span><span>月</span><span lang=EN-US>15</span><span>日至</span><span lang=EN-US>4</span><span>月</span><span lang=EN-US>15</span><span>日</span></p></td>
  <td><p class=MsoNormal><span>家庭申报、入户调查</span></p></td>
 </tr>
 <tr>
  <td><p class=MsoNormal><span>4月16日至5月15日</span></p></td>
  <td><p class=MsoNormal><span>审核确认、张榜公示</span></p></td>
 </tr>
</table>
<p class=MsoNormal style='text-indent:32.0pt'><b><span>三、工作要求</span></b></p>
<p class=MsoNormal style='text-indent:32.0pt'><span>各地要严格按照规定程序开展年审，对不再符合条件的，及时办理退出手续。</span></p>
<p class=MsoNormal style='text-indent:32.0pt'><span>附件：</span><a href="/uploadfiles/2022/nsqktjb.xls">年审情况统计表.xls</a></p>
<p class=MsoNormal align=right style='text-align:right'><span>青山市民政局</span></p>
<p class=MsoNormal align=right style='text-align:right'><span lang=EN-US>2022</span><span>年</span><span lang=EN-US>3</span><span>月</span><span lang=EN-US>15</span><span>日</span></p>
    </td></tr>
    <tr><td align="right"><a href="javascript:window.print()">[打印本页]</a> <a href="javascript:window.close()">[关闭窗口]</a></td></tr>
  </table>
</td>
</tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="bottom">
  <tr><td align="center">版权所有：青山市民政局　地址：青山市人民路88号　联系电话：0123-1234567<br>
  主办单位：青山市民政局　网站标识码：1234000012　<a href="https://beian.miit.gov.cn">江ICP备09001234号-1</a></td></tr>
</table>
</body>
</html>
""",
    body=(
        _BUREAU_TITLE,
        "各县（市、区）民政局：",
        "根据《社会救助暂行办法》和《江南省最低生活保障办法》有关规定，现就做好2022年度城乡居民最低生活保障年审工作通知如下：",
        "一、年审范围",
        "截至2021年12月31日已纳入城乡居民最低生活保障的家庭。",
        "二、时间安排",
        "时间节点\t工作内容",
        "时间节点：3月15日至4月15日；工作内容：家庭申报、入户调查",
        "时间节点：4月16日至5月15日；工作内容：审核确认、张榜公示",
        "三、工作要求",
        "各地要严格按照规定程序开展年审，对不再符合条件的，及时办理退出手续。",
        "附件：年审情况统计表.xls",
        "青山市民政局",
        "2022年3月15日",
    ),
    meta={"date": "2022-03-15", "published": "2022-03-15"},
    chrome=("机构概况", "人事信息", "您现在的位置", "发布日期", "点击数", "版权所有", "联系电话", "江ICP备"),
)

# ---------------------------------------------------------------- 4. HTML5 district 信息公开 page

_DISTRICT_TITLE = "青山区人民政府办公室关于印发青山区困难群众临时救助实施细则的通知"

DISTRICT = Page(
    name="district_xxgk",
    encoding="utf-8",
    title=_DISTRICT_TITLE,
    html=f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="UTF-8">
<title>{_DISTRICT_TITLE}_青山区人民政府</title>
</head>
<body>
<header class="site-header">
  <div class="logo"><h1><a href="/">青山区人民政府</a></h1></div>
  <nav><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/zwfw/">政务服务</a></li><li><a href="/gzcy/">公众参与</a></li></ul></nav>
</header>
<main class="container">
<div class="location">您所在的位置：<a href="/">首页</a> › <a href="/zwgk/">政务公开</a> › <a href="/zwgk/zcwj/">政策文件</a></div>
<table class="xxgk-table">
<tr><th>索引号</th><td>QS-2023-000123</td><th>信息分类</th><td>民政</td></tr>
<tr><th>发布机构</th><td>青山区人民政府办公室</td><th>成文日期</th><td>2023年3月2日</td></tr>
<tr><th>文号</th><td>青区政办发〔2023〕5号</td><th>有效性</th><td>有效</td></tr>
<tr><th>名称</th><td colspan="3">{_DISTRICT_TITLE}</td></tr>
</table>
<article class="detail">
<header>
  <h1>{_DISTRICT_TITLE}</h1>
  <div class="info"><span>发布时间：2023-03-06</span> <span>浏览次数：<em id="hits">0</em></span></div>
</header>
<section class="detail-body">
<p>各街道办事处，区政府各部门：</p>
<p>《青山区困难群众临时救助实施细则》已经区政府同意，现印发给你们，请认真贯彻执行。</p>
<p style="text-align:right">青山区人民政府办公室</p>
<p style="text-align:right">2023年3月2日</p>
<h2>青山区困难群众临时救助实施细则</h2>
<h3>一、救助对象</h3>
<ul>
<li>（一）因火灾、交通事故等意外事件，导致基本生活暂时出现严重困难的家庭或个人；</li>
<li>（二）因家庭成员突发重大疾病等原因，导致基本生活暂时出现严重困难的家庭。</li>
</ul>
<h3>二、救助标准</h3>
<table class="data">
<caption>临时救助标准</caption>
<thead><tr><th>类别</th><th>救助标准</th><th>审批权限</th></tr></thead>
<tbody>
<tr><td>一般救助</td><td>不超过当地月低保标准的6倍</td><td>街道</td></tr>
<tr><td>急难救助</td><td><p>不超过当地月低保标准的12倍</p><p>（特殊情况可一事一议）</p></td><td>区民政局</td></tr>
</tbody>
</table>
<h3>三、附则</h3>
<p>本细则自2023年4月1日起施行，有效期5年。</p>
</section>
<div class="fj">附件：<a href="/u/cms/2023/linshi.docx">临时救助申请审批表.docx</a><br>
<a href="/u/cms/2023/huamingce.pdf">临时救助金发放花名册.pdf</a></div>
<div class="tools"><span>【<a href="javascript:window.print()">打印</a>】</span><span>【<a href="javascript:window.close()">关闭</a>】</span></div>
<div class="bdsharebuttonbox">分享到：<a class="bds_weixin"></a><a class="bds_tsina"></a></div>
<div class="qr"><img src="/qrcode.png" alt=""><p>扫一扫在手机打开当前页</p></div>
</article>
<div class="xgwj">
  <div class="hd">相关文件</div>
  <ul>
    <li><a href="/zcwj/1.html">青山区最低生活保障实施细则</a><span>2022-11-01</span></li>
    <li><a href="/zcwj/2.html">青山区特困人员救助供养实施办法</a><span>2022-08-15</span></li>
    <li><a href="/zcwj/3.html">青山区困难群众基本生活救助资金管理办法</a><span>2022-05-20</span></li>
  </ul>
</div>
</main>
<footer>
  <p>主办单位：青山区人民政府办公室　承办单位：青山区大数据中心</p>
  <p>网站标识码：3201000023　<a href="https://beian.miit.gov.cn/">江ICP备10012345号</a>　<span>江公网安备32010202000123号</span></p>
</footer>
</body>
</html>
""",
    body=(
        _DISTRICT_TITLE,
        "各街道办事处，区政府各部门：",
        "《青山区困难群众临时救助实施细则》已经区政府同意，现印发给你们，请认真贯彻执行。",
        "青山区人民政府办公室",
        "2023年3月2日",
        "青山区困难群众临时救助实施细则",
        "一、救助对象",
        "（一）因火灾、交通事故等意外事件，导致基本生活暂时出现严重困难的家庭或个人；",
        "（二）因家庭成员突发重大疾病等原因，导致基本生活暂时出现严重困难的家庭。",
        "二、救助标准",
        "临时救助标准",
        "类别\t救助标准\t审批权限",
        "类别：一般救助；救助标准：不超过当地月低保标准的6倍；审批权限：街道",
        "类别：急难救助；救助标准：不超过当地月低保标准的12倍 （特殊情况可一事一议）；审批权限：区民政局",
        "三、附则",
        "本细则自2023年4月1日起施行，有效期5年。",
        "附件：临时救助申请审批表.docx",
        "临时救助金发放花名册.pdf",
    ),
    meta={
        "index_no": "QS-2023-000123",
        "topic": "民政",
        "issuer": "青山区人民政府办公室",
        "date": "2023-03-02",
        "published": "2023-03-06",
        "title": _DISTRICT_TITLE,
        "doc_number": "青区政办发〔2023〕5号",
        "validity": "有效",
    },
    chrome=("公众参与", "您所在的位置", "QS-2023", "浏览次数", "分享到", "扫一扫", "相关文件", "特困人员救助供养实施办法",
            "承办单位", "公网安备"),
)  # fmt: skip

# ---------------------------------------------------------------- 5. editor-pasted body: nested <section>/<span>, <dl> box


def _editor_para(*runs: str) -> str:
    """One paragraph as WeChat-style editors paste it: nested sections, one <span> per run."""
    spans = "\n          ".join(f'<span style="font-size: 16px; letter-spacing: 1px;">{r}</span>' for r in runs)
    return (
        '<section style="margin: 10px 0;"><section style="padding: 0 8px;">\n'
        f'        <p style="text-indent: 2em; line-height: 1.75;">\n          {spans}\n        </p>\n'
        "</section></section>"
    )


_CITY_TITLE = "白水市人民政府关于调整城乡居民最低生活保障标准的通知"

CITY = Page(
    name="city_editor_sections",
    encoding="utf-8",
    title=_CITY_TITLE,
    html=f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{_CITY_TITLE}-白水市人民政府</title>
<style>.TRS_Editor p {{ margin: 0; }}</style>
</head>
<body>
<div class="top">
  <div class="topnav"><a href="/">网站首页</a> | <a href="/zwgk/">政府信息公开</a> | <a href="/zmhd/">政民互动</a> | <a href="/bmfw/">便民服务</a></div>
</div>
<div class="position">当前位置：<a href="/">首页</a> > <a href="/zwgk/">政府信息公开</a> > <a href="/zwgk/szfwj/">市政府文件</a></div>
<div class="xxgk_info">
<dl>
  <dt>索 引 号:</dt><dd>BS00-2024-000008</dd>
  <dt>主题分类:</dt><dd>民政、扶贫、救灾</dd>
  <dt>发文机关:</dt><dd>白水市人民政府</dd>
  <dt>成文日期:</dt><dd>2024-01-12</dd>
  <dt>发文字号:</dt><dd>白政发〔2024〕2号</dd>
  <dt>发布日期:</dt><dd>2024-01-15</dd>
</dl>
</div>
<div class="title"><h1>{_CITY_TITLE}</h1></div>
<div class="fontsize">【字号：<a onclick="setSize(20)">大</a> <a onclick="setSize(16)">中</a> <a onclick="setSize(14)">小</a>】</div>
<div class="TRS_Editor">
<section data-role="outer" style="padding: 0;">
{_editor_para("各县（区）人民政府，市政府各部门：")}
{_editor_para("为切实保障困难群众基本生活，按照", "“应保尽保、应兜尽兜”", "的要求，经市政府研究，决定调整全市城乡居民最低生活保障标准。现将有关事项通知如下：")}
{_editor_para("<strong>一、调整标准</strong>")}
{_editor_para("城市居民最低生活保障标准由每人每月", "780元", "提高到每人每月", "820元", "；农村居民最低生活保障标准由每人每年", "7200元", "提高到每人每年", "7680元", "。")}
<section><p><br></p></section>
{_editor_para("<strong>二、执行时间</strong>")}
{_editor_para("新标准自2024年1月1日起执行。")}
<section style="text-align: center;"><img src="https://example.gov.cn/upload/2024/biaozhun.png" alt="标准调整示意图"></section>
{_editor_para("<strong>三、工作要求</strong>")}
{_editor_para("各县（区）要及时足额落实资金，确保调整后的保障金于", "2024年2月底前", "发放到位。")}
<section style="text-align: right;"><p>白水市人民政府</p><p>2024年1月12日</p></section>
</section>
</div>
<div class="share-box">分享到：<a class="weixin"></a> <a class="weibo"></a></div>
<div class="print-close"><a onclick="window.print()">打印本页</a> <a onclick="window.close()">关闭窗口</a></div>
<div class="related-links">
<h3>相关链接</h3>
<ul><li><a href="/zcjd/1.html">《关于调整城乡居民最低生活保障标准的通知》政策解读</a></li>
<li><a href="/zcjd/2.html">白水市2023年城乡低保标准调整情况</a></li></ul>
</div>
<div class="foot">
  <p>主办单位：白水市人民政府办公室　技术支持：白水市大数据局</p>
  <p>网站标识码：5301000001　滇ICP备00000001号</p>
</div>
</body>
</html>
""",
    body=(
        _CITY_TITLE,
        "各县（区）人民政府，市政府各部门：",
        "为切实保障困难群众基本生活，按照“应保尽保、应兜尽兜”的要求，经市政府研究，决定调整全市城乡居民最低生活保障标准。"
        "现将有关事项通知如下：",
        "一、调整标准",
        "城市居民最低生活保障标准由每人每月 780元提高到每人每月 820元；农村居民最低生活保障标准由每人每年 7200元提高到每人每年 7680元。",
        "二、执行时间",
        "新标准自2024年1月1日起执行。",
        "三、工作要求",
        "各县（区）要及时足额落实资金，确保调整后的保障金于 2024年2月底前发放到位。",
        "白水市人民政府",
        "2024年1月12日",
    ),
    meta={
        "index_no": "BS00-2024-000008",
        "topic": "民政、扶贫、救灾",
        "issuer": "白水市人民政府",
        "date": "2024-01-12",
        "published": "2024-01-15",
        "doc_number": "白政发〔2024〕2号",
    },
    chrome=("网站首页", "政民互动", "当前位置", "BS00-2024", "字号", "分享到", "政策解读", "技术支持", "ICP备"),
)  # fmt: skip

# ---------------------------------------------------------------- 6. GBK, <br>-separated body, title only in <title>

_NOTICE_TITLE = "白水市民政局关于开展2023年“敬老月”活动的通知"

NOTICE = Page(
    name="notice_br_gbk",
    encoding="gbk",
    title=_NOTICE_TITLE,
    html=f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>{_NOTICE_TITLE}_通知公告_白水市民政局</title>
</head>
<body>
<div id="header"><img src="/images/mzj_logo.gif" alt="白水市民政局"></div>
<div id="menu"><a href="/">首页</a> <a href="/gk/">政务公开</a> <a href="/tzgg/">通知公告</a> <a href="/bs/">网上办事</a></div>
<div class="main">
<div class="info">发布时间：2023-09-26 10:12:33　　信息来源：市民政局　　【字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</div>
<div id="zoom"><font size="3">
　　各县（市、区）民政局、局机关各科室、局属各单位：<br>
　　今年10月是全国第14个“敬老月”。根据<a href="/zcfg/123.html">民政部办公厅通知</a>要求，现就开展我市2023年“敬老月”活动通知如下：<br>
　　<strong>一、活动主题</strong><br>
　　关爱老年人，弘扬敬老孝老助老社会风尚。<br>
　　<strong>二、活动时间</strong><br>
　　2023年10月1日至31日。<br><br>
　　附件：<a href="/files/jlyhdapb.xlsx">敬老月活动安排表.xlsx</a><br>
　　　　　　　　　　　　　　　　　　　　白水市民政局<br>
　　　　　　　　　　　　　　　　　　　　2023年9月25日
</font></div>
<div class="btn"><a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></div>
</div>
<div id="bottom">版权所有：白水市民政局　备案号：滇ICP备00000002号　联系我们：0871-1234567</div>
</body>
</html>
""",
    body=(
        "各县（市、区）民政局、局机关各科室、局属各单位：",
        "今年10月是全国第14个“敬老月”。根据民政部办公厅通知要求，现就开展我市2023年“敬老月”活动通知如下：",
        "一、活动主题",
        "关爱老年人，弘扬敬老孝老助老社会风尚。",
        "二、活动时间",
        "2023年10月1日至31日。",
        "附件：敬老月活动安排表.xlsx",
        "白水市民政局",
        "2023年9月25日",
    ),
    meta={"date": "2023-09-26", "published": "2023-09-26"},
    chrome=("网上办事", "发布时间", "信息来源", "字号", "【打印】", "【关闭】", "版权所有", "备案号"),
)

PAGES: tuple[Page, ...] = (GOV_CN, PROVINCE, BUREAU, DISTRICT, CITY, NOTICE)


# ---------------------------------------------------------------- 7. the sample, back in its template-site page


def sample_page() -> Page | None:
    """The repo's sample (a page copied as text from a template site) laid back into such a page.

    Its lines: breadcrumb, title, 时间/浏览量 line, the body paragraphs (indented with U+3000
    on the page, two spaces in the copied text), 推荐访问 keywords, 版权所有/备案号 footer.
    None when the sample file is not present.
    """
    src = next((p for p in (SAMPLE_TXT, SHARED_SAMPLE_TXT) if p.is_file()), None)
    if src is None:
        return None
    lines = [ln for ln in src.read_text("utf-8").splitlines() if ln.strip()]
    crumb, title, info = lines[0], lines[1], lines[2]
    m = re.search(r"时间\s*[:：]\s*(\d{4})-(\d{2})-(\d{2})", info)
    published = "-".join(m.groups()) if m else None
    tags_i = next(i for i, ln in enumerate(lines) if ln.startswith("推荐访问"))
    body = [ln.strip() for ln in lines[3:tags_i]]
    footer = lines[tags_i + 1 :]
    paras = "\n".join(f"<p>\u3000\u3000{_esc(b)}</p>" for b in body)
    crumb_links = " &gt; ".join(f'<a href="/c{i}/">{_esc(part.strip())}</a>' for i, part in
                                enumerate(crumb.split(":", 1)[1].replace(">", " > ").split(" > ")) if part.strip())  # fmt: skip
    html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{_esc(title)}-小联文秘网</title>
<meta name="keywords" content="工作计划,党建,教育系统">
<script src="/static/js/common.js"></script>
</head>
<body>
<div class="header"><div class="logo"><a href="/">小联文秘网</a></div>
<ul class="menu"><li><a href="/">首页</a></li><li><a href="/fanwen/">范文大全</a></li><li><a href="/djcl/">党建材料</a></li><li><a href="/gzjh/">工作计划</a></li></ul></div>
<div class="ad"><script>showAd("top");</script></div>
<div class="wrap">
<div class="main-left">
<div class="place">当前位置:{crumb_links}</div>
<h1>{_esc(title)}</h1>
<div class="info">{_esc(info)}</div>
<div class="content">
{paras}
</div>
<div class="tags">{_esc(lines[tags_i])}</div>
<div class="pages"><p>上一篇：<a href="/1.html">2022年党支部工作计划</a></p><p>下一篇：<a href="/3.html">2022年机关党建工作计划</a></p></div>
</div>
<div class="main-right"><div class="hot"><h3>热门文章</h3><ul>
<li><a href="/a.html">2022年党建工作总结范文</a></li><li><a href="/b.html">党支部书记述职报告</a></li><li><a href="/c.html">主题教育心得体会</a></li>
</ul></div></div>
</div>
<div class="footer">{"<br>".join(_esc(f) for f in footer)}</div>
</body>
</html>
"""
    return Page(
        name="sample_template_site",
        encoding="utf-8",
        title=title,
        html=html,
        body=(title, *body),
        meta={"date": published, "published": published} if published else {},
        chrome=("当前位置", "浏览量", "推荐访问", "上一篇", "热门文章", "版权所有", "备案号"),
    )


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def all_pages() -> tuple[Page, ...]:
    """The fixture pages, plus the sample page when the sample file is present."""
    sample = sample_page()
    return PAGES + HELD_OUT + ((sample,) if sample else ())


def write_all(folder: Path) -> list[Path]:
    """Write every fixture page into `folder`; return their paths."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [p.write(folder) for p in all_pages()]


# ---------------------------------------------------------------- held out: written after the rules were fixed

_COUNTY_TITLE = "青山县民政局关于印发《青山县特困人员认定办法》的通知"

COUNTY = Page(
    name="heldout_county_rows",
    encoding="utf-8",
    title=_COUNTY_TITLE,
    html=f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>青山县人民政府-{_COUNTY_TITLE}</title></head>
<body>
<div class="wrapper">
<div class="ht"><div class="ht-logo"><img src="/img/logo.png"></div>
<div class="ht-link"><a href="/">首页</a><a href="/zwgk">政务公开</a><a href="/bsfw">办事服务</a><a href="/hdjl">互动交流</a></div></div>
<div class="wzy-dq">当前位置：<a href="/">首页</a>&gt;<a href="/zwgk">政务公开</a>&gt;<a href="/zwgk/tzgg">通知公告</a></div>
<div class="xxgk_top">
  <div class="row"><span class="lab">索引号</span><span class="val">113307000025/2021-12345</span><span class="lab">组配分类</span><span class="val">部门文件</span></div>
  <div class="row"><span class="lab">发布机构</span><span class="val">青山县民政局</span><span class="lab">生成日期</span><span class="val">2021-09-03</span></div>
  <div class="row"><span class="lab">文号</span><span class="val">青县民〔2021〕18号</span><span class="lab">有效性</span><span class="val">有效</span></div>
</div>
<div class="wzy_box">
  <div class="wzy_title">{_COUNTY_TITLE}</div>
  <div class="wzy_sx"><span>发布时间：2021-09-06 16:20</span><span>作者：县民政局</span><span>阅读次数：<b id="num">312</b></span></div>
  <div class="wzy_content" id="zoomcon">
    <p><span style="font-family:仿宋;font-size:16pt">各乡镇人民政府、街道办事处：</span></p>
    <p><span style="font-family:仿宋;font-size:16pt">　　现将《青山县特困人员认定办法》印发给你们，请结合实际认真贯彻落实。</span></p>
    <p style="text-align:center"><span style="font-family:方正小标宋简体;font-size:22pt">青山县特困人员认定办法</span></p>
    <p><span style="font-family:黑体">　　第一条</span><span style="font-family:仿宋">　为做好特困人员认定工作，根据《特困人员认定办法》，制定本办法。</span></p>
    <p><span style="font-family:黑体">　　第二条</span><span style="font-family:仿宋">　同时具备以下条件的老年人、残疾人和未满16周岁的未成年人，应当依法纳入特困人员救助供养范围：</span></p>
    <p><span style="font-family:仿宋">　　（一）无劳动能力；</span></p>
    <p><span style="font-family:仿宋">　　（二）无生活来源；</span></p>
    <p><span style="font-family:仿宋">　　（三）无法定赡养、抚养、扶养义务人或者其法定义务人无履行义务能力。</span></p>
    <table border="1" cellpadding="0" cellspacing="0" width="600">
      <tr><td rowspan="2">类别</td><td colspan="2">供养标准（元/月）</td></tr>
      <tr><td>基本生活</td><td>照料护理</td></tr>
      <tr><td>全自理</td><td>1200</td><td>300</td></tr>
      <tr><td>全护理</td><td>1200</td><td>1500</td></tr>
    </table>
    <p><span style="font-family:黑体">　　第三条</span><span style="font-family:仿宋">　本办法自发布之日起施行。</span></p>
  </div>
  <div class="wzy_fj"><span>相关附件：</span><a href="/attach/0/tkry.wps">特困人员认定申请表.wps</a></div>
  <div class="wzy_bot"><span class="fl">【字体：<a>大</a> <a>中</a> <a>小</a>】</span><span class="fr"><a>打印</a> <a>关闭</a></span></div>
  <div class="wzy_page"><p>上一篇：<a href="/a/1.html">关于开展2021年度社会组织年检工作的通知</a></p><p>下一篇：<a href="/a/3.html">青山县民政局2021年政府信息公开工作年度报告</a></p></div>
</div>
<div class="ft">
  <div class="ft-links">友情链接：<select><option>国家部委网站</option><option>省级政府网站</option></select></div>
  <p>青山县人民政府 主办　青山县政府办公室 承办</p>
  <p>浙ICP备05011111号-1　浙公网安备 33072302000111号　网站识别码：3307230001</p>
</div>
</div>
</body>
</html>
""",
    body=(
        _COUNTY_TITLE,
        "各乡镇人民政府、街道办事处：",
        "现将《青山县特困人员认定办法》印发给你们，请结合实际认真贯彻落实。",
        "青山县特困人员认定办法",
        "第一条　为做好特困人员认定工作，根据《特困人员认定办法》，制定本办法。",
        "第二条　同时具备以下条件的老年人、残疾人和未满16周岁的未成年人，应当依法纳入特困人员救助供养范围：",
        "（一）无劳动能力；",
        "（二）无生活来源；",
        "（三）无法定赡养、抚养、扶养义务人或者其法定义务人无履行义务能力。",
        "类别\t供养标准（元/月）·基本生活\t供养标准（元/月）·照料护理",
        "类别：全自理；供养标准（元/月）·基本生活：1200；供养标准（元/月）·照料护理：300",
        "类别：全护理；供养标准（元/月）·基本生活：1200；供养标准（元/月）·照料护理：1500",
        "第三条　本办法自发布之日起施行。",
        "相关附件：特困人员认定申请表.wps",
    ),
    meta={
        "index_no": "113307000025/2021-12345",
        "topic": "部门文件",
        "issuer": "青山县民政局",
        "date": "2021-09-03",
        "published": "2021-09-06",
        "doc_number": "青县民〔2021〕18号",
        "validity": "有效",
    },
    chrome=("办事服务", "当前位置", "组配分类", "阅读次数", "字体", "上一篇", "下一篇", "友情链接", "网站识别码"),
)

_NEWS_TITLE = "我市召开2024年全市民政工作会议"

NEWS = Page(
    name="heldout_news_article",
    encoding="utf-8",
    title=_NEWS_TITLE,
    html=f"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{_NEWS_TITLE} | 白水市民政局</title></head>
<body>
<div id="head"><a href="/" class="logo">白水市民政局</a>
<ul id="nav"><li><a href="/">首页</a></li><li><a href="/xwzx/">新闻中心</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/bsfw/">办事服务</a></li></ul></div>
<div class="container clearfix">
<div class="left-col">
<div class="sub-title">新闻中心</div>
<ul class="sub-list"><li><a href="/xwzx/gzdt/">工作动态</a></li><li><a href="/xwzx/tzgg/">通知公告</a></li><li><a href="/xwzx/mtbd/">媒体报道</a></li></ul>
<div class="sub-contact"><p>民政服务热线：12349</p><p>婚姻登记咨询：0871-7654321</p><p>办公时间：周一至周五 9:00-17:00</p></div>
</div>
<div class="right-col">
<div class="cur">当前位置：首页 &gt; 新闻中心 &gt; 工作动态</div>
<div class="news-detail">
<h1 class="news-title">{_NEWS_TITLE}</h1>
<div class="news-attr">2024-02-20 09:30　来源：白水市民政局　作者：办公室</div>
<div class="news-body">
<p>　　2月19日，全市民政工作会议召开。会议深入学习贯彻全国民政工作会议精神，总结2023年全市民政工作，部署2024年重点任务。</p>
<p style="text-align:center"><img src="/upload/2024/02/meeting.jpg" alt="会议现场"></p>
<p style="text-align:center">会议现场</p>
<p>　　会议指出，2023年全市民政系统累计发放各类救助资金<span style="color:red">3.2亿元</span>，
新建社区养老服务设施46个。</p>
<p>　　会议强调，2024年要重点抓好三项工作：一是兜牢兜准民生底线；二是加快发展养老服务；三是提升基层社会治理水平。</p>
<p>　　各县（区）民政局主要负责同志参加会议。</p>
<p style="text-align:right">（责任编辑：李明）</p>
</div>
<div class="news-tool">【<a href="javascript:window.print()">打印</a>】【<a href="javascript:window.close()">关闭</a>】</div>
</div>
</div>
</div>
<div id="copyright">Copyright © 2024 白水市民政局 版权所有　滇ICP备00000003号</div>
</body>
</html>
""",
    body=(
        _NEWS_TITLE,
        "2月19日，全市民政工作会议召开。会议深入学习贯彻全国民政工作会议精神，总结2023年全市民政工作，部署2024年重点任务。",
        "会议现场",
        "会议指出，2023年全市民政系统累计发放各类救助资金3.2亿元，新建社区养老服务设施46个。",
        "会议强调，2024年要重点抓好三项工作：一是兜牢兜准民生底线；二是加快发展养老服务；三是提升基层社会治理水平。",
        "各县（区）民政局主要负责同志参加会议。",
        "（责任编辑：李明）",
    ),
    meta={},
    chrome=("新闻中心", "媒体报道", "民政服务热线", "办公时间", "当前位置", "来源：", "【打印】", "Copyright"),
)

HELD_OUT: tuple[Page, ...] = (COUNTY, NEWS)
