"""Money in yuan: ``Decimal`` with two places, never ``float``.

:func:`parse_yuan` is strict: an amount a clerk or a bank file gives us either has at
most two decimals or is an error; it is never rounded or read as zero.
:func:`round_yuan` is the one place where computed amounts are rounded (half up).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from shebao.core.errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Fits DecimalField(max_digits=14, decimal_places=2): far above any payroll total.
MAX_YUAN = Decimal("999999999999.99")

_PLAIN_RE = re.compile(r"-?\d+(?:\.\d+)?")
_GROUPED_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NON_FINITE_RE = re.compile(r"[+-]?(?:s?nan\d*|inf(?:inity)?)", re.IGNORECASE)
_EXPONENT_RE = re.compile(r"\d\.?[eE][+-]?\d")
_MINUS_SIGNS = "\u2212\u2012\u2013\ufe63"  # minus sign, figure dash, en dash, small hyphen-minus


def _finish(value: Decimal, *, allow_negative: bool, field: str | None) -> Decimal:
    if not value.is_finite():
        raise ValidationError("金额必须是有限的数字", field=field)
    if value < 0 and not allow_negative:
        raise ValidationError("金额不能为负数", field=field)
    if abs(value) > MAX_YUAN:
        raise ValidationError("金额过大，请核对", field=field)
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationError("金额最多两位小数", field=field)
    result = value.quantize(CENT)
    return ZERO if result == 0 else result  # never "-0.00"


def parse_yuan(
    raw: str | int | Decimal,
    *,
    allow_negative: bool = False,
    allow_separators: bool = False,
    field: str | None = None,
) -> Decimal:
    """Parse an amount in yuan to a ``Decimal`` with exactly two places.

    Accepts ``"1234"``, ``"1234.5"``, ``"1234.56"`` (full-width digits are normalised
    first), ``int`` and ``Decimal``; negative amounts only with ``allow_negative``,
    thousands separators (``"1,234.56"``) only with ``allow_separators``. Rejects
    floats, empty text, more than two decimals, NaN/Infinity, exponent notation and
    anything else with a ``ValidationError``.
    """
    if isinstance(raw, bool):
        raise ValidationError("金额不能是真/假值", field=field)
    if isinstance(raw, float):
        raise ValidationError(
            "金额不能使用浮点数，请以文本或Decimal传入（浮点数会产生分位误差）", field=field
        )
    if isinstance(raw, int):
        return _finish(Decimal(raw), allow_negative=allow_negative, field=field)
    if isinstance(raw, Decimal):
        return _finish(raw, allow_negative=allow_negative, field=field)
    if not isinstance(raw, str):
        raise ValidationError("金额格式不正确", field=field)

    text = unicodedata.normalize("NFKC", raw).strip()
    for sign in _MINUS_SIGNS:
        text = text.replace(sign, "-")
    if not text:
        raise ValidationError("金额不能为空", field=field)
    if _NON_FINITE_RE.fullmatch(text):
        raise ValidationError("金额必须是有限的数字", field=field)
    if _EXPONENT_RE.search(text):
        raise ValidationError("金额不能使用科学计数法（如 1E+3），请填写普通数字", field=field)
    if not text.isascii():
        raise ValidationError(f"金额格式不正确：“{text}”，请只填写数字和小数点", field=field)
    if "," in text:
        if not allow_separators:
            raise ValidationError("金额中不能有千位分隔符（逗号）", field=field)
        if not _GROUPED_RE.fullmatch(text):
            raise ValidationError(f"金额格式不正确：“{text}”，千位分隔符位置有误", field=field)
        text = text.replace(",", "")
    elif not _PLAIN_RE.fullmatch(text):
        raise ValidationError(f"金额格式不正确：“{text}”，请只填写数字和小数点", field=field)
    if "." in text and len(text.split(".", 1)[1]) > 2:
        raise ValidationError("金额最多两位小数", field=field)
    if text.startswith("-") and not allow_negative:
        raise ValidationError("金额不能为负数", field=field)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regexes above only let valid text through
        raise ValidationError(f"金额格式不正确：“{text}”", field=field) from None
    return _finish(value, allow_negative=allow_negative, field=field)


def _require_decimal(value: Decimal | int, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} needs a Decimal or int, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} needs a finite amount")
    return result


def _require_cents(value: Decimal | int, name: str) -> Decimal:
    amount = _require_decimal(value, name)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(
            f"{name} needs an amount with at most two decimals, got {amount}; call round_yuan first"
        )
    result = amount.quantize(CENT)
    return ZERO if result == 0 else result


def round_yuan(value: Decimal | int) -> Decimal:
    """Round a computed amount to 0.01 yuan, half up (0.005 → 0.01, -0.005 → -0.01)."""
    amount = _require_decimal(value, "round_yuan")
    result = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if result == 0 else result


def format_yuan(value: Decimal | int) -> str:
    """``Decimal("2345.6")`` → ``"2345.60"``: no separators, for bank files and exports."""
    return f"{_require_cents(value, 'format_yuan'):f}"


def format_yuan_display(value: Decimal | int) -> str:
    """``Decimal("2345.6")`` → ``"2,345.60"``: for screens and printed forms."""
    return f"{_require_cents(value, 'format_yuan_display'):,.2f}"


def to_fen(value: Decimal | int) -> int:
    """Yuan → integer fen (分): ``Decimal("12.34")`` → ``1234``."""
    return int(_require_cents(value, "to_fen") * 100)


def from_fen(fen: int) -> Decimal:
    """Integer fen → yuan with two places: ``1234`` → ``Decimal("12.34")``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"from_fen needs an int, got {type(fen).__name__}")
    return Decimal(f"{fen}E-2")  # built from text: exact for any size, no context rounding
