from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumValidationError

from shebao.core.errors import ValidationError
from shebao.core.values.ssn import (
    DEMO_REGION_CODE,
    SEX_FEMALE,
    SEX_MALE,
    SHOUXIAN_REGION_CODES,
    SSN,
    is_valid_ssn,
    make_ssn,
    parse_ssn,
    ssn_check_digit,
)

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)
TODAY = date(2026, 6, 1)

# A mix of current and abolished codes, provinces, cities and counties, HK/Macao/Taiwan permits.
KNOWN_REGIONS = [
    "340422",
    "341521",
    "342422",
    "110101",
    "110103",
    "220102",
    "440604",
    "371081",
    "110000",
    "810000",
    "820000",
    "830000",
]

VALID = "341521199003071234"  # 寿县 (六安市, 1999-2015 code), born 1990-03-07, male


def test_it_parses_a_valid_number() -> None:
    ssn = parse_ssn(VALID, today=TODAY)

    assert ssn == SSN(VALID)
    assert str(ssn) == VALID
    assert ssn.region_code == "341521"
    assert ssn.birth_date == date(1990, 3, 7)
    assert ssn.sex == SEX_MALE


def test_it_reads_female_from_an_even_17th_digit() -> None:
    ssn = parse_ssn(make_ssn(DEMO_REGION_CODE, date(1962, 1, 31), 124), today=TODAY)

    assert ssn.sex == SEX_FEMALE


def test_it_strips_whitespace_and_upper_cases_x() -> None:
    number = make_ssn(DEMO_REGION_CODE, date(1958, 6, 1), 4)
    assert number == "34042219580601004X"

    typed = " 340422 19580601 004x\u3000"

    assert parse_ssn(typed, today=TODAY).value == number


def test_it_accepts_full_width_digits() -> None:
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in VALID)

    assert parse_ssn(full_width, today=TODAY).value == VALID


def test_it_rejects_empty_input() -> None:
    with pytest.raises(ValidationError, match="不能为空") as error:
        parse_ssn("  ", today=TODAY)

    assert error.value.field == "ssn"


@pytest.mark.parametrize("raw", ["34152119900307123", "3415211990030712345", "1234"])
def test_it_rejects_a_wrong_length_with_the_count(raw: str) -> None:
    with pytest.raises(ValidationError, match=f"当前为{len(raw)}位"):
        parse_ssn(raw, today=TODAY)


def test_it_rejects_letters_in_the_first_17() -> None:
    with pytest.raises(ValidationError, match="前17位必须是数字"):
        parse_ssn("34152119900307A234", today=TODAY)


def test_it_rejects_a_bad_last_character() -> None:
    with pytest.raises(ValidationError, match="最后一位必须是数字或X"):
        parse_ssn("34152119900307123Y", today=TODAY)


def test_it_rejects_a_wrong_check_digit_naming_the_expected_one() -> None:
    with pytest.raises(ValidationError, match="校验位错误：应为 4"):
        parse_ssn("341521199003071230", today=TODAY)


def test_it_rejects_an_impossible_birth_date() -> None:
    number = "34152119900230123" + ssn_check_digit("34152119900230123")

    with pytest.raises(ValidationError, match="19900230 不是有效日期"):
        parse_ssn(number, today=TODAY)


def test_it_rejects_a_birth_date_in_the_future() -> None:
    tomorrow = make_ssn(DEMO_REGION_CODE, date(2026, 6, 2), 1)

    with pytest.raises(ValidationError, match="晚于今天"):
        parse_ssn(tomorrow, today=TODAY)


def test_it_accepts_a_birth_date_of_today() -> None:
    born_today = make_ssn(DEMO_REGION_CODE, TODAY, 1)

    assert parse_ssn(born_today, today=TODAY).birth_date == TODAY


def test_it_uses_the_real_date_when_today_is_not_given() -> None:
    far_future = make_ssn(DEMO_REGION_CODE, date(2999, 1, 1), 1)

    assert parse_ssn(VALID).value == VALID
    with pytest.raises(ValidationError, match="晚于今天"):
        parse_ssn(far_future)


def test_it_rejects_a_birth_year_before_1900() -> None:
    with pytest.raises(ValidationError, match="早于1900年"):
        parse_ssn(make_ssn(DEMO_REGION_CODE, date(1899, 12, 31), 1), today=TODAY)


def test_it_turns_stdnums_key_error_into_our_validation_error() -> None:
    # 110199: the province (北京市) exists, the county does not. python-stdnum 2.2 raises a bare
    # KeyError('county') here instead of one of its own exceptions.
    number = make_ssn("110199", date(1990, 3, 7), 123)
    with pytest.raises((KeyError, StdnumValidationError)):
        ric.validate(number)

    with pytest.raises(ValidationError, match="110199 不存在（北京市下没有这个代码）"):
        parse_ssn(number, today=TODAY)


def test_it_rejects_a_region_code_that_never_existed() -> None:
    with pytest.raises(ValidationError, match="地区代码 999999 不存在"):
        parse_ssn(make_ssn("999999", date(1990, 3, 7), 123), today=TODAY)


@pytest.mark.parametrize(
    ("region", "birth"),
    [
        ("341521", date(1990, 3, 7)),  # code from 1999, person born before
        ("340422", date(1955, 1, 1)),  # 寿县's code since 2015
        ("342422", date(2005, 5, 5)),  # code abolished in 1999
        ("810000", date(1990, 1, 1)),  # Hong Kong residence permit, code "from 1997"
    ],
)
def test_it_accepts_region_codes_stdnum_rejects_for_the_birth_year(region: str, birth: date) -> None:
    number = make_ssn(region, birth, 123)
    assert not ric.is_valid(number)  # stdnum ties the code to the birth year

    assert parse_ssn(number, today=TODAY).region_code == region


def test_it_knows_all_codes_of_shou_county() -> None:
    for region in SHOUXIAN_REGION_CODES:
        assert is_valid_ssn(make_ssn(region, date(1960, 7, 1), 11), today=TODAY)


def test_it_converts_a_15_digit_legacy_number() -> None:
    ssn = parse_ssn("341521900307123", today=TODAY)

    assert ssn.value == VALID
    assert ssn.birth_date == date(1990, 3, 7)


def test_it_rejects_a_15_digit_number_with_letters() -> None:
    with pytest.raises(ValidationError, match="15位旧身份证号码只能包含数字"):
        parse_ssn("34152190030712X", today=TODAY)


def test_it_checks_the_birth_date_of_a_15_digit_number() -> None:
    with pytest.raises(ValidationError, match="19900230"):
        parse_ssn("341521900230123", today=TODAY)


def test_it_explains_spreadsheet_scientific_notation() -> None:
    with pytest.raises(ValidationError, match="科学计数法"):
        parse_ssn("3.41521E+17", today=TODAY)


def test_it_rejects_a_number_that_is_not_text() -> None:
    with pytest.raises(ValidationError, match="必须是文本"):
        parse_ssn(341521199003071234, today=TODAY)  # type: ignore[arg-type]


def test_it_constructor_checks_shape_and_check_digit() -> None:
    with pytest.raises(ValidationError):
        SSN("341521199003071230")
    with pytest.raises(ValidationError):
        SSN("34152119900307123x")


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (date(2026, 3, 6), 35),
        (date(2026, 3, 7), 36),
        (date(1990, 3, 7), 0),
    ],
)
def test_it_computes_age_in_completed_years(on: date, age: int) -> None:
    assert SSN(VALID).age_on(on) == age


def test_it_ages_a_leap_day_baby_on_the_first_of_march() -> None:
    ssn = parse_ssn(make_ssn(DEMO_REGION_CODE, date(1956, 2, 29), 1), today=TODAY)

    assert ssn.age_on(date(2026, 2, 28)) == 69
    assert ssn.age_on(date(2026, 3, 1)) == 70


def test_it_make_ssn_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_ssn("34042", date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_ssn(DEMO_REGION_CODE, date(1990, 1, 1), 1000)
    with pytest.raises(ValueError):
        make_ssn(DEMO_REGION_CODE, date(1990, 1, 1), -1)


def test_it_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        ssn_check_digit("1234")


@DETERMINISTIC
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_it_check_digit_agrees_with_stdnum(first17: str) -> None:
    assert ssn_check_digit(first17) == ric.calc_check_digit(first17 + "0")


@DETERMINISTIC
@given(
    region=st.sampled_from(KNOWN_REGIONS),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(min_value=0, max_value=999),
)
def test_it_parses_every_generated_number(region: str, birth: date, seq: int) -> None:
    ssn = parse_ssn(make_ssn(region, birth, seq), today=TODAY)

    assert ssn.birth_date == birth
    assert ssn.region_code == region
    assert ssn.sex == (SEX_MALE if seq % 2 else SEX_FEMALE)


@DETERMINISTIC
@given(
    region=st.sampled_from(KNOWN_REGIONS),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=17),
    data=st.data(),
)
def test_it_rejects_every_single_character_change(
    region: str, birth: date, seq: int, position: int, data: st.DataObject
) -> None:
    number = make_ssn(region, birth, seq)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([ch for ch in alphabet if ch != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]

    with pytest.raises(ValidationError):
        parse_ssn(changed, today=TODAY)


@DETERMINISTIC
@given(
    region=st.sampled_from(KNOWN_REGIONS),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_it_converts_every_15_digit_number_to_a_valid_18_digit_one(
    region: str, birth: date, seq: int
) -> None:
    legacy = f"{region}{birth:%y%m%d}{seq:03d}"

    ssn = parse_ssn(legacy, today=TODAY)

    assert len(ssn.value) == 18
    assert ssn.value == make_ssn(region, birth, seq)
    assert ssn.value[17] == ric.calc_check_digit(ssn.value)
    assert ssn.birth_date == birth
