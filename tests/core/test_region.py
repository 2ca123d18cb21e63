from __future__ import annotations

import pytest
from stdnum.cn import ric

from shebao.core.errors import ValidationError
from shebao.core.values.region import (
    RegionCode,
    lookup_region,
    parse_region_code,
    region_full_name,
    region_known,
    region_name,
)


@pytest.mark.parametrize(
    ("code", "level", "province", "city"),
    [
        ("340000", "province", "340000", None),
        ("340400", "city", "340000", "340400"),
        ("340422", "county", "340000", "340400"),
        ("110101", "county", "110000", "110100"),
    ],
)
def test_it_derives_level_province_and_city(code: str, level: str, province: str, city: str | None) -> None:
    region = parse_region_code(code)

    assert region == RegionCode(code)
    assert str(region) == code
    assert region.level == level
    assert region.province_code == province
    assert region.city_code == city


def test_it_names_regions() -> None:
    assert region_name("340422") == "寿县"
    assert region_name("341521") == "寿县"
    assert region_name("340000") == "安徽省"
    assert region_name("810000") == "香港特别行政区"
    assert region_name("999999") is None
    assert parse_region_code("340400").name == "淮南市"


def test_it_builds_full_names_without_placeholder_levels() -> None:
    assert region_full_name("340422") == "安徽省淮南市寿县"
    assert region_full_name("341521") == "安徽省六安市寿县"
    assert region_full_name("342422") == "安徽省六安地区寿县"
    assert region_full_name("110101") == "北京市东城区"  # 110100 市辖区 left out
    assert region_full_name("429004") == "湖北省仙桃市"  # 省直辖县级行政单位 left out
    assert region_full_name("340000") == "安徽省"
    assert region_full_name("110199") is None
    assert parse_region_code("340422").full_name == "安徽省淮南市寿县"


def test_it_keeps_the_years_a_code_was_used() -> None:
    info = lookup_region("341521")

    assert info is not None
    assert info.province_name == "安徽省"
    assert (info.names[-1].start_year, info.names[-1].end_year) == (1999, 2015)
    assert info.names[-1].in_use(2000)
    assert not info.names[-1].in_use(2016)
    assert not info.is_current
    assert lookup_region("340422") is not None
    assert lookup_region("340422").is_current  # type: ignore[union-attr]


def test_it_reads_codes_that_changed_name() -> None:
    info = lookup_region("511402")  # 枳城区 until 1997, 东坡区 from 2000

    assert info is not None
    assert [n.name for n in info.names] == ["枳城区", "东坡区"]
    assert info.name == "东坡区"


def test_it_accepts_abolished_codes_unless_current_is_required() -> None:
    assert parse_region_code("341521").value == "341521"
    with pytest.raises(ValidationError, match="341521（寿县）已撤销"):
        parse_region_code("341521", current_only=True)
    assert parse_region_code("340422", current_only=True).value == "340422"


def test_it_survives_stdnums_key_error_for_an_unknown_county() -> None:
    # python-stdnum 2.2 raises KeyError('county') for this kind of code.
    with pytest.raises((KeyError, ValueError)):
        ric.get_birth_place("110199199003071239")

    assert lookup_region("110199") is None
    assert not region_known("110199")
    with pytest.raises(ValidationError, match="110199 不存在（北京市下没有这个代码）") as error:
        parse_region_code("110199")
    assert error.value.field == "region_code"


def test_it_rejects_unknown_provinces() -> None:
    with pytest.raises(ValidationError, match="999999 不存在，请核对"):
        parse_region_code("999999")


@pytest.mark.parametrize("raw", ["34042", "3404220", "34042X", "３４０４２"])
def test_it_rejects_malformed_codes(raw: str) -> None:
    with pytest.raises(ValidationError, match="6位数字"):
        parse_region_code(raw)


def test_it_rejects_empty_and_odd_input() -> None:
    with pytest.raises(ValidationError, match="不能为空"):
        parse_region_code("  ")
    with pytest.raises(ValidationError):
        parse_region_code(True)
    with pytest.raises(ValidationError):
        RegionCode("abc")


def test_it_accepts_integers_and_full_width_digits() -> None:
    assert parse_region_code(340422).value == "340422"
    assert parse_region_code("３４０４２２").value == "340422"


def test_it_knows_the_taiwan_residence_permit_code() -> None:
    assert region_known("830000")
    assert parse_region_code("830000").level == "province"


def test_it_tells_which_regions_contain_which() -> None:
    anhui, huainan, shouxian = RegionCode("340000"), RegionCode("340400"), RegionCode("340422")

    assert anhui.contains(shouxian)
    assert huainan.contains("340422")
    assert shouxian.contains(shouxian)
    assert not shouxian.contains(huainan)
    assert not huainan.contains("341521")


def test_it_returns_none_for_junk_lookups() -> None:
    assert lookup_region("") is None
    assert lookup_region("abcdef") is None
    assert region_full_name("abc") is None
