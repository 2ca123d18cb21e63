from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.core.values.masking import mask_account, mask_name, mask_phone, mask_ssn

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)

digits = st.text(alphabet="0123456789", min_size=0, max_size=25)


def test_it_masks_the_documented_examples() -> None:
    assert mask_ssn("341521199003071234") == "341521********1234"
    assert mask_account("6222021234567890123") == "6222 **** **** 0123"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"


def test_it_masks_legacy_and_spaced_numbers() -> None:
    assert mask_ssn("341521900307123") == "341521*****7123"
    assert mask_ssn("341521 19900307 1234") == "341521********1234"
    assert mask_account("6222 0212 3456 7890 123") == "6222 **** **** 0123"
    assert mask_phone("138-1234-5678") == "138****5678"


@pytest.mark.parametrize("fn", [mask_ssn, mask_account, mask_phone, mask_name])
def test_it_tolerates_empty_input(fn: object) -> None:
    assert fn("") == ""  # type: ignore[operator]
    assert fn(None) == ""  # type: ignore[operator]


def test_it_masks_short_input_completely() -> None:
    assert mask_ssn("1234") == "****"
    assert mask_ssn("34152119900") == "***********"
    assert mask_account("12345678") == "****"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("55561234") == "****1234"
    assert mask_name("张") == "*"


def test_it_keeps_first_and_last_character_of_long_names() -> None:
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("买买提·艾力") == "买****力"
    assert mask_name(" 张三 ") == "张*"


def _revealed(masked: str) -> list[str]:
    return [ch for ch in masked if ch not in "* "]


@DETERMINISTIC
@given(digits)
def test_it_ssn_mask_shows_at_most_region_and_last_four(value: str) -> None:
    masked = mask_ssn(value)

    assert len(masked) == len(value)
    assert len(_revealed(masked)) <= 10
    if len(value) >= 15:
        assert masked[:6] == value[:6]
        assert masked[-4:] == value[-4:]
        assert set(masked[6:-4]) == {"*"}
    else:
        assert set(masked) <= {"*"}


@DETERMINISTIC
@given(digits)
def test_it_account_mask_shows_at_most_first_and_last_four(value: str) -> None:
    masked = mask_account(value)

    assert len(_revealed(masked)) <= 8
    if len(value) >= 12:
        assert masked == f"{value[:4]} **** **** {value[-4:]}"
    else:
        assert set(masked) <= {"*"}


@DETERMINISTIC
@given(digits)
def test_it_phone_mask_shows_at_most_seven_and_never_all(value: str) -> None:
    masked = mask_phone(value)

    assert len(masked) == len(value)
    shown = _revealed(masked)
    assert len(shown) <= 7
    if value:
        assert len(shown) <= len(value) // 2 + 2
        assert len(shown) < len(value)


@DETERMINISTIC
@given(st.text(alphabet="张三丰欧阳娜买提·艾力", min_size=0, max_size=12))
def test_it_name_mask_shows_at_most_two_characters_and_never_all(value: str) -> None:
    masked = mask_name(value)

    shown = _revealed(masked)
    assert len(shown) <= 2
    if value:
        assert len(shown) < len(value)
