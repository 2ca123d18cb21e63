from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.core.errors import ValidationError
from shebao.core.values.bank import (
    LUHN_WARNING,
    BankAccount,
    luhn_check_digit,
    luhn_valid,
    make_card_uid,
    parse_bank_account,
    parse_card_no,
    parse_card_uid,
)

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=100)

LUHN_OK = "6222021234567890128"
LUHN_BAD = "6222021234567890123"


def test_it_parses_an_account_removing_spaces_and_hyphens() -> None:
    account = parse_bank_account(" 6222 0212-3456 7890 128 ")

    assert account == BankAccount(LUHN_OK)
    assert str(account) == LUHN_OK


def test_it_accepts_full_width_digits_and_hyphens() -> None:
    typed = "６２２２－０２１２３４５６７８９０１２８"

    assert parse_bank_account(typed).value == LUHN_OK


def test_it_has_no_warning_when_luhn_passes() -> None:
    account = parse_bank_account(LUHN_OK)

    assert account.luhn_ok
    assert account.warnings == []


def test_it_warns_but_accepts_when_luhn_fails() -> None:
    account = parse_bank_account(LUHN_BAD)

    assert account.value == LUHN_BAD
    assert not account.luhn_ok
    assert account.warnings == [LUHN_WARNING]
    assert "Luhn" in account.warnings[0]


@pytest.mark.parametrize("raw", ["1" * 16, "1" * 19])
def test_it_accepts_16_to_19_digits(raw: str) -> None:
    assert parse_bank_account(raw).value == raw


@pytest.mark.parametrize("raw", ["1" * 15, "1" * 20])
def test_it_rejects_other_lengths_with_the_count(raw: str) -> None:
    with pytest.raises(ValidationError, match=f"16至19位数字，当前为{len(raw)}位") as error:
        parse_bank_account(raw)

    assert error.value.field == "bank_account"


def test_it_rejects_letters() -> None:
    with pytest.raises(ValidationError, match="只能包含数字"):
        parse_bank_account("6222O21234567890128")


def test_it_rejects_empty_input() -> None:
    with pytest.raises(ValidationError, match="不能为空"):
        parse_bank_account(" - ")


def test_it_explains_spreadsheet_scientific_notation() -> None:
    with pytest.raises(ValidationError, match="科学计数法"):
        parse_bank_account("6.22202E+18")


def test_it_rejects_a_number_that_is_not_text() -> None:
    with pytest.raises(ValidationError, match="必须是文本"):
        parse_bank_account(6222021234567890128)  # type: ignore[arg-type]


def test_it_constructor_rejects_malformed_accounts() -> None:
    with pytest.raises(ValidationError):
        BankAccount("12345")


def test_it_computes_the_classic_luhn_example() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")
    assert not luhn_valid("7992x")


def test_it_luhn_check_digit_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        luhn_check_digit("12a")
    with pytest.raises(ValueError):
        luhn_check_digit("")


@DETERMINISTIC
@given(st.text(alphabet="0123456789", min_size=15, max_size=18))
def test_it_appending_the_luhn_digit_makes_a_valid_account(partial: str) -> None:
    account = parse_bank_account(partial + luhn_check_digit(partial))

    assert account.luhn_ok
    assert account.warnings == []


def test_it_parses_a_card_number_upper_case() -> None:
    assert parse_card_no(" a1b2c3d4e ") == "A1B2C3D4E"
    assert parse_card_no("１２３４５６７８９") == "123456789"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "不能为空"),
        ("A1B2C3D4", "应为9位，当前为8位"),
        ("A1B2C3D4E5", "应为9位，当前为10位"),
        ("A1B2C3D4_", "只能包含字母和数字"),
        ("A1B2C3D4É", "只能包含字母和数字"),
    ],
)
def test_it_rejects_bad_card_numbers(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as error:
        parse_card_no(raw)

    assert error.value.field == "card_no"


def test_it_parses_a_card_uid_upper_case() -> None:
    uid = "340400D156000005" + "00000000000000ff"

    assert parse_card_uid(f" {uid} ") == uid.upper()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "不能为空"),
        ("340400D15600000500000000000000F", "应为32位，当前为31位"),
        ("34040XD15600000500000000000000FF", "前6位"),
        ("340400D15600000600000000000000FF", "D156000005"),
        ("340400D15600000500000000000000FG", "十六进制"),
    ],
)
def test_it_rejects_bad_card_uids(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_card_uid(raw)


def test_it_makes_card_uids() -> None:
    assert make_card_uid("340400", 255) == "340400D15600000500000000000000FF"
    with pytest.raises(ValueError):
        make_card_uid("3404", 1)
    with pytest.raises(ValueError):
        make_card_uid("340400", 16**16)
    with pytest.raises(ValueError):
        make_card_uid("340400", -1)


@DETERMINISTIC
@given(
    region=st.text(alphabet="0123456789", min_size=6, max_size=6),
    n=st.integers(min_value=0, max_value=16**16 - 1),
)
def test_it_parses_every_generated_card_uid(region: str, n: int) -> None:
    uid = make_card_uid(region, n)

    assert parse_card_uid(uid.lower()) == uid
    assert int(uid[16:], 16) == n
