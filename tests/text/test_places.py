from __future__ import annotations

import pytest

from rag.text.places import (
    division_name,
    folder_place,
    leading_place,
    named_places,
    outside,
    parents,
    related,
    resolve_place,
    short_name,
)


def names(codes):
    return sorted(division_name(c) for c in codes)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("上海闵行区某小区的一户业主把走廊圈了起来", ["上海市", "闵行区"]),
        ("济南莱芜区一栋老住宅楼想加装电梯", ["济南市", "莱芜区"]),  # 莱芜 only with its suffix
        ("潍坊某小区的物业公司代收水电费", ["潍坊市"]),
        ("来自安徽、持有上海居住证的夫妻在上海打工", ["上海市", "安徽省"]),
        ("重庆江北区一家烧烤店", ["江北区", "重庆市"]),  # 江北区 of 重庆, not of 宁波
        ("宁波江北区一家烧烤店", ["宁波市", "江北区"]),
        ("宝山区的居民养狗", ["宝山区", "宝山区"]),  # 上海 and 双鸭山: nothing settles it, both kept
        ("延边的朝鲜族学校", ["延边朝鲜族自治州"]),
        ("广西的农村公路", ["广西壮族自治区"]),
        ("深圳经济特区的企业", ["深圳市"]),
        ("杭州市区一栋写字楼", ["杭州市"]),
        ("开封小区有人往楼下扔东西", ["开封市"]),  # an ordinary word's city, before a word of locality
        ("大同一家餐馆", ["大同市"]),
        # no place: ordinary words that hold a place's name, and short names that are ordinary words
        ("要长治久安，早餐吃三明治，工作完成都要检查", []),
        ("开封检查后日照充足，发展朝阳产业", []),
        ("食品开封后要冷藏", []),
        ("园区东区的企业", []),  # 东区 (攀枝花) only after its city
        ("菏泽单县的农民", ["单县", "菏泽市"]),
        ("江城市人民政府办公室", []),  # not a division
        ("", []),
    ],
)
def test_named_places(text, expected):
    assert names(named_places(text)) == expected


@pytest.mark.parametrize(
    "title,expected",
    [
        ("上海市住宅物业管理规定", "上海市"),
        ("浙江省电动自行车管理条例", "浙江省"),
        ("莱芜市既有多层住宅增设电梯规定", "莱芜区"),  # the old city, now a district of 济南
        ("深圳经济特区安全生产监督管理条例", "深圳市"),
        ("关于印发《杭州市物业管理办法》的通知", "杭州市"),
        ("山东省济南市历下区人民政府关于加强物业管理的通知", "历下区"),  # the most precise of the chain
        ("开封市城市管理条例", "开封市"),
        ("2024年上海市民政工作要点", "上海市"),  # a year before the place
        ("二〇二四年度杭州市政务服务工作要点", "杭州市"),
        ("中共上海市委办公厅", "上海市"),  # an ordinary word's city, with its suffix
        ("中华人民共和国民法典", None),
        ("国务院关于加强法治政府建设的意见", None),
        ("平安建设工作要点", None),  # 平安区 (青海) is not read without its suffix
        ("宝山区人民政府关于", None),  # shared by two places and nothing settles it
        ("关于加强北京地区文物保护的通知", None),  # a place inside the title, not at its start
    ],
)
def test_leading_place(title, expected):
    got = leading_place(title)
    assert (division_name(got) if got else None) == expected


def test_parents_and_relations():
    assert [division_name(c) for c in parents("310112")] == ["闵行区", "上海市"]  # no prefecture row
    assert [division_name(c) for c in parents("370786")] == ["昌邑市", "潍坊市", "山东省"]
    assert related("370000", "370700") and related("370700", "370000") and related("310000", "310000")
    assert not related("370700", "370200")  # 潍坊 and 青岛: sisters, not related
    # a document of 山东省 governs a 潍坊 question; 青岛's does not; a national one (None) is never outside
    assert not outside("370000", {"370700"}) and outside("370200", {"370700"}) and not outside(None, {"370700"})
    assert not outside("370200", set())  # a question naming no place
    assert not outside("310112", {"310000"})  # 闵行区's document for a question about 上海


@pytest.mark.parametrize(
    "name,short",
    [("广西壮族自治区", "广西"), ("新疆维吾尔自治区", "新疆"), ("恩施土家族苗族自治州", "恩施"),
     ("巴音郭楞蒙古自治州", "巴音郭楞"), ("五峰土家族自治县", "五峰"), ("闵行区", "闵行"), ("香港特别行政区", "香港"),
     ("大兴安岭地区", "大兴安岭")],
)  # fmt: skip
def test_short_name(name, short):
    assert short_name(name) == short


@pytest.mark.parametrize(
    "parts,expected",
    [
        (("lib", "杭州市"), "杭州市"),
        (("浙江", "文件", "闵行区"), "闵行区"),
        (("上海", "政策文件"), None),  # only the folder the document sits in: further out is where the library is
        (("上海地方法规", "地方性法规", "上海"), "上海市"),
        (("行政法规", "部门规章"), None),
        (("lib", "开封"), None),  # an ordinary word's short name is not read from a folder
        (("宝山区",), None),  # shared by two places
        ((), None),
    ],
)
def test_folder_place(parts, expected):
    got = folder_place(parts)
    assert (division_name(got) if got else None) == expected


def test_resolve_place():
    assert [division_name(resolve_place(t)) for t in ("杭州", "杭州市", "330100", "上海宝山区", "浙江")] == [
        "杭州市", "杭州市", "杭州市", "宝山区", "浙江省",
    ]  # fmt: skip
    assert resolve_place("上海宝山区") == "310113"
    with pytest.raises(ValueError, match="names several places .*上海市 宝山区.*双鸭山市 宝山区"):
        resolve_place("宝山区")
    with pytest.raises(ValueError, match="names no province, city or district"):
        resolve_place("江城市")
