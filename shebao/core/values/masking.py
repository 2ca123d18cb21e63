"""Masking of personal data for screens, logs and exports seen by people without need.

Each function reveals at most the documented characters and is tolerant of short,
empty or ``None`` input: a value too short to mask safely is masked completely.
"""

from __future__ import annotations

import unicodedata

MASK = "*"


def _compact(value: str | None) -> str:
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def mask_ssn(value: str | None) -> str:
    """``"341521199003071234"`` → ``"341521********1234"``: region code and last 4 only.

    Values shorter than 15 characters (the legacy length) are masked completely.
    """
    text = _compact(value)
    if len(text) < 15:
        return MASK * len(text)
    return text[:6] + MASK * (len(text) - 10) + text[-4:]


def mask_account(value: str | None) -> str:
    """``"6222021234567890123"`` → ``"6222 **** **** 0123"``: first 4 and last 4 only.

    The output has the same shape whatever the length; accounts shorter than 12
    characters become ``"****"``.
    """
    text = _compact(value)
    if not text:
        return ""
    if len(text) < 12:
        return MASK * 4
    return f"{text[:4]} {MASK * 4} {MASK * 4} {text[-4:]}"


def mask_phone(value: str | None) -> str:
    """``"13812345678"`` → ``"138****5678"``: first 3 and last 4 of 11+ characters.

    Shorter numbers (landlines without area code) show the last 4 of 8-10 characters;
    anything shorter is masked completely.
    """
    text = _compact(value)
    if len(text) >= 11:
        return text[:3] + MASK * (len(text) - 7) + text[-4:]
    if len(text) >= 8:
        return MASK * (len(text) - 4) + text[-4:]
    return MASK * len(text)


def mask_name(value: str | None) -> str:
    """``"张三丰"`` → ``"张*丰"``, ``"张三"`` → ``"张*"``, ``"张"`` → ``"*"``.

    Longer names keep the first and last character (``"欧阳娜娜"`` → ``"欧**娜"``).
    """
    text = (value or "").strip()
    if len(text) <= 1:
        return MASK * len(text)
    if len(text) == 2:
        return text[0] + MASK
    return text[0] + MASK * (len(text) - 2) + text[-1]
