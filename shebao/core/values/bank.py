"""Bank account numbers and card identifiers.

A bank account (金融账户) is 16-19 digits. The Luhn check is only a warning: passbook
accounts and old accounts that banks renumbered often fail it and are still real.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum import luhn

from shebao.core.errors import ValidationError

BANK_ACCOUNT_MIN_LENGTH = 16
BANK_ACCOUNT_MAX_LENGTH = 19
LUHN_WARNING = "银行账号未通过Luhn校验，请核对（存折或旧账号可能如此）"

CARD_NO_LENGTH = 9
CARD_UID_MIDDLE = "D156000005"
CARD_UID_LENGTH = 32

_CARD_NO_RE = re.compile(r"[0-9A-Z]{9}")
_CARD_UID_RE = re.compile(r"(\d{6})D156000005([0-9A-F]{16})")
_INVISIBLE = "\u200b\u200c\u200d\ufeff\u2060"


def _squeeze(raw: str, *, drop: str = "") -> str:
    """NFKC (full-width digits → ASCII), then drop whitespace, zero-width marks and ``drop``."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace() and ch not in _INVISIBLE and ch not in drop)


def luhn_check_digit(partial: str) -> str:
    """The Luhn digit to append to ``partial`` (ASCII digits)."""
    if not partial or not partial.isascii() or not partial.isdigit():
        raise ValueError("luhn_check_digit needs ASCII digits")
    return luhn.calc_check_digit(partial)


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (ASCII digits, check digit last) passes the Luhn check."""
    if not number or not number.isascii() or not number.isdigit():
        return False
    return luhn.checksum(number) == 0


@dataclass(frozen=True)
class BankAccount:
    """A 16-19 digit bank account number; build it with :func:`parse_bank_account`."""

    value: str

    def __post_init__(self) -> None:
        if not (
            self.value.isascii()
            and self.value.isdigit()
            and BANK_ACCOUNT_MIN_LENGTH <= len(self.value) <= BANK_ACCOUNT_MAX_LENGTH
        ):
            raise ValidationError(f"银行账号无效：{self.value}", field="bank_account")

    def __str__(self) -> str:
        return self.value

    @property
    def luhn_ok(self) -> bool:
        """Whether the number passes the Luhn check (a failure is only a warning)."""
        return luhn_valid(self.value)

    @property
    def warnings(self) -> list[str]:
        """Messages to show the clerk; the account is accepted anyway."""
        return [] if self.luhn_ok else [LUHN_WARNING]


def parse_bank_account(raw: str) -> BankAccount:
    """Parse a bank account number: spaces and hyphens are removed, 16-19 digits remain.

    Raises ``ValidationError`` for anything else; a Luhn failure is reported in
    ``BankAccount.warnings``, never raised.
    """
    if not isinstance(raw, str):
        raise ValidationError(
            "银行账号必须是文本（请勿以数字格式保存，否则末位会丢失）", field="bank_account"
        )
    text = _squeeze(raw, drop="-")
    if not text:
        raise ValidationError("银行账号不能为空", field="bank_account")
    if "E+" in text.upper():
        raise ValidationError(
            "银行账号被表格软件转成了科学计数法（如 6.22E+18），请把该列设置为文本后重新填写",
            field="bank_account",
        )
    if not text.isascii() or not text.isdigit():
        raise ValidationError("银行账号只能包含数字", field="bank_account")
    if not BANK_ACCOUNT_MIN_LENGTH <= len(text) <= BANK_ACCOUNT_MAX_LENGTH:
        raise ValidationError(
            f"银行账号应为{BANK_ACCOUNT_MIN_LENGTH}至{BANK_ACCOUNT_MAX_LENGTH}位数字，当前为{len(text)}位",
            field="bank_account",
        )
    return BankAccount(text)


def parse_card_no(raw: str) -> str:
    """Parse a card number (卡号): 9 letters or digits, returned upper-case."""
    if not isinstance(raw, str):
        raise ValidationError("社保卡卡号必须是文本", field="card_no")
    text = _squeeze(raw).upper()
    if not text:
        raise ValidationError("社保卡卡号不能为空", field="card_no")
    if not _CARD_NO_RE.fullmatch(text):
        if len(text) != CARD_NO_LENGTH:
            raise ValidationError(f"社保卡卡号应为9位，当前为{len(text)}位", field="card_no")
        raise ValidationError("社保卡卡号只能包含字母和数字", field="card_no")
    return text


def parse_card_uid(raw: str) -> str:
    """Parse a card identification code (卡识别码), returned upper-case.

    32 characters: 6-digit issuing region + ``D156000005`` + 16 hexadecimal characters.
    The region digits are not looked up (the chip is authoritative).
    """
    if not isinstance(raw, str):
        raise ValidationError("卡识别码必须是文本", field="card_uid")
    text = _squeeze(raw).upper()
    if not text:
        raise ValidationError("卡识别码不能为空", field="card_uid")
    if len(text) != CARD_UID_LENGTH:
        raise ValidationError(f"卡识别码应为32位，当前为{len(text)}位", field="card_uid")
    if not _CARD_UID_RE.fullmatch(text):
        if not (text[:6].isascii() and text[:6].isdigit()):
            raise ValidationError("卡识别码前6位应为发卡地区代码（数字）", field="card_uid")
        if text[6:16] != CARD_UID_MIDDLE:
            raise ValidationError(f"卡识别码第7-16位应为 {CARD_UID_MIDDLE}", field="card_uid")
        raise ValidationError("卡识别码后16位应为十六进制字符（0-9、A-F）", field="card_uid")
    return text


def make_card_uid(region: str, n: int) -> str:
    """Build a card identification code from a region code and a serial ``n`` (generators, tests)."""
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise ValueError("region must be 6 ASCII digits")
    if not 0 <= n < 16**16:
        raise ValueError("n must fit in 16 hexadecimal digits")
    return f"{region}{CARD_UID_MIDDLE}{n:016X}"
