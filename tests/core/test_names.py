from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.core.errors import ValidationError
from shebao.core.values.names import (
    MIDDLE_DOT,
    MIDDLE_DOT_VARIANTS,
    TRADITIONAL_TO_SIMPLIFIED,
    clean_person_name,
    name_pinyin_initials,
    names_equal,
    normalize_name,
    validate_person_name,
)

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)

DOT_VARIANTS = ["\u00b7", "\u2022", "\u30fb", "\uff0e", ".", "\u2027", "\u2219", "\u22c5", "\uff65"]


def test_it_removes_every_kind_of_whitespace() -> None:
    assert normalize_name(" 张\u3000三\t\u00a0丰 \u200b") == "张三丰"


def test_it_turns_full_width_into_half_width() -> None:
    assert normalize_name("ＪＯＨＮ") == "JOHN"


def test_it_upper_cases_latin_letters() -> None:
    assert names_equal("John Smith", "JOHN  SMITH")


@pytest.mark.parametrize("dot", DOT_VARIANTS)
def test_it_unifies_middle_dot_variants(dot: str) -> None:
    assert normalize_name(f"买买提{dot}艾力") == f"买买提{MIDDLE_DOT}艾力"
    assert dot in MIDDLE_DOT_VARIANTS


def test_it_collapses_repeated_dots_and_spaces_around_them() -> None:
    assert normalize_name("买买提 ·· 艾力") == "买买提·艾力"


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("陳小龍", "陈小龙"),
        ("張國華", "张国华"),
        ("劉鳳麗", "刘凤丽"),
        ("黃偉東", "黄伟东"),
        ("趙軍紅", "赵军红"),
        ("馬雲", "马云"),
        ("葉蘭", "叶兰"),
        ("錢齊", "钱齐"),
        ("鄭謝韓許鄧蕭馮盧蔣", "郑谢韩许邓萧冯卢蒋"),
        ("孫楊吳", "孙杨吴"),
        ("蔡", "蔡"),
    ],
)
def test_it_maps_common_traditional_characters(traditional: str, simplified: str) -> None:
    assert normalize_name(traditional) == simplified
    assert names_equal(traditional, simplified)


def test_it_leaves_meaning_dependent_characters_alone() -> None:
    # 於 and 乾 are kept as surnames in mainland registrations.
    assert normalize_name("於乾") == "於乾"


def test_it_has_a_table_of_common_traditional_characters() -> None:
    assert len(TRADITIONAL_TO_SIMPLIFIED) >= 150
    simplified = set(TRADITIONAL_TO_SIMPLIFIED.values())
    for code, target in TRADITIONAL_TO_SIMPLIFIED.items():
        assert len(target) == 1
        assert chr(code) != target
        assert chr(code) not in simplified  # one pass is enough


def test_it_tells_different_names_apart() -> None:
    assert not names_equal("张三", "张山")
    assert not names_equal("买买提艾力", "买买提·艾力")


@DETERMINISTIC
@given(st.text())
def test_it_normalize_is_idempotent(text: str) -> None:
    once = normalize_name(text)

    assert normalize_name(once) == once


@DETERMINISTIC
@given(st.text(alphabet=st.sampled_from([*"张三陳國華龍买提艾力 \u3000Ａa", *DOT_VARIANTS])))
def test_it_normalize_is_idempotent_on_name_like_text(text: str) -> None:
    once = normalize_name(text)

    assert normalize_name(once) == once
    assert not any(ch.isspace() for ch in once)
    assert all(ch == MIDDLE_DOT or ch not in MIDDLE_DOT_VARIANTS for ch in once)


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("张三", "zs"),
        ("买买提·艾力", "mmtal"),
        ("买买提.艾力", "mmtal"),
        ("单雄信", "sxx"),
        ("曾国藩", "zgf"),
        ("解缙", "xj"),
        ("仇英", "qy"),
        ("查良镛", "zly"),
        ("尉迟恭", "ycg"),
        ("单", "d"),
        ("John Smith", "js"),
        ("𠈌三", "s"),
        ("", ""),
    ],
)
def test_it_gives_pinyin_initials(name: str, initials: str) -> None:
    assert name_pinyin_initials(name) == initials


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  张三  ", "张三"),
        ("张 三", "张三"),
        ("张\u3000三", "张三"),
        ("买买提 • 艾力", "买买提·艾力"),
        ("买买提．艾力", "买买提·艾力"),
        ("JOHN   SMITH", "JOHN SMITH"),
        ("ＪＯＨＮ ＳＭＩＴＨ", "JOHN SMITH"),
        ("张\u200b三", "张三"),
        ("𠈌三", "𠈌三"),
        ("陳小龍", "陳小龍"),  # stored as typed; only comparisons simplify
    ],
)
def test_it_cleans_names_for_storage(raw: str, cleaned: str) -> None:
    assert clean_person_name(raw) == cleaned
    assert validate_person_name(raw) == cleaned


def test_it_accepts_rare_characters() -> None:
    for name in ["𠈌", "王𪚥", "李〇", "龘"]:
        assert validate_person_name(name) == name


def test_it_accepts_fifty_characters_but_not_fifty_one() -> None:
    assert validate_person_name("张" * 50) == "张" * 50
    with pytest.raises(ValidationError, match="最多50个字，当前为51个"):
        validate_person_name("张" * 51)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "姓名不能为空"),
        ("   ", "姓名不能为空"),
        ("张<三", "<"),
        ("张三>", ">"),
        ("张\x00三", "控制字符"),
        ("张\u202e三", "控制字符"),
        ("张三2", "数字"),
        ("张三２", "数字"),
        ("张三①", "数字"),
        ("=HYPERLINK()", "不能以“=”开头"),
        ("+张三", "不能以“+”开头"),
        ("-张三", "不能以“-”开头"),
        ("@张三", "不能以“@”开头"),
        ("＝张三", "不能以“=”开头"),
        ("·艾力", "间隔号"),
        ("艾力·", "间隔号"),
    ],
)
def test_it_rejects_unsafe_or_impossible_names(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as error:
        validate_person_name(raw)

    assert error.value.field == "name"


def test_it_rejects_non_text_names() -> None:
    with pytest.raises(ValidationError, match="必须是文本"):
        validate_person_name(123)  # type: ignore[arg-type]


def test_it_passes_the_field_name_on() -> None:
    with pytest.raises(ValidationError) as error:
        validate_person_name("", field="account_name")

    assert error.value.field == "account_name"


@DETERMINISTIC
@given(st.text())
def test_it_validated_names_are_stable(text: str) -> None:
    try:
        name = validate_person_name(text)
    except ValidationError:
        return
    assert validate_person_name(name) == name
    assert 1 <= len(name) <= 50
