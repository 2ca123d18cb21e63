"""社会保障号码 (social security number = the 18-character 公民身份号码).

Layout: 6-digit region code + 8-digit birth date (YYYYMMDD) + 3-digit sequence
(odd = male, even = female) + check character (ISO 7064 MOD 11-2, ``0-9`` or ``X``).

Validation differs from ``stdnum.cn.ric.validate`` on purpose:

* stdnum only accepts a region code for birth years in which the code existed. A
  number keeps the code of the place and time it was *assigned*, which is often years
  after birth: every 寿县 retiree born before 1999 with a 341521 number would be
  rejected. We accept any code that ever existed in GB/T 2260.
* stdnum 2.2 raises ``KeyError`` for an unknown county under a known province; we
  never let that escape.
* stdnum accepts future birth dates and rejects 15-digit numbers; we reject the
  former and convert the latter.
"""

from __future__ import annotations

import calendar
import operator
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from shebao.core.errors import ValidationError
from shebao.core.values.region import lookup_region

# 寿县 (Shou County), the county of the first requirement document. It has been
# 340422 (under 淮南市) since 2015; 341521 (六安市, 1999-2015) and 342422 (六安地区,
# before 1999) appear in the numbers of people registered earlier.
DEMO_REGION_CODE = "340422"
SHOUXIAN_REGION_CODES = ("340422", "341521", "342422")

SEX_MALE = "1"
SEX_FEMALE = "2"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SSN_RE = re.compile(r"\d{17}[\dX]")
_MIN_BIRTH_YEAR = 1900
_FIELD = "ssn"


def ssn_check_digit(first17: str) -> str:
    """The check character for the first 17 digits (``0``-``9`` or ``X``)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("ssn_check_digit needs exactly 17 ASCII digits")
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class SSN:
    """A social security number in its 18-character form.

    Build it with :func:`parse_ssn`; the constructor only checks the shape and the
    check digit (cheap enough for values loaded from the database).
    """

    value: str

    def __post_init__(self) -> None:
        if not _SSN_RE.fullmatch(self.value) or ssn_check_digit(self.value[:17]) != self.value[17]:
            raise ValidationError(f"社会保障号码无效：{self.value}", field=_FIELD)
        _birth_date(self.value[6:14])

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _checked(cls, value: str) -> SSN:
        """An SSN whose every part :func:`parse_ssn` has just checked: skip checking it again."""
        ssn = object.__new__(cls)
        object.__setattr__(ssn, "value", value)
        return ssn

    @property
    def region_code(self) -> str:
        """The 6-digit region code of the place the number was assigned."""
        return self.value[:6]

    @property
    def birth_date(self) -> date:
        """The birth date encoded in digits 7-14."""
        return date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def sex(self) -> str:
        """GB/T 2261.1 sex code: ``"1"`` male (odd 17th digit), ``"2"`` female (even)."""
        return SEX_MALE if int(self.value[16]) % 2 else SEX_FEMALE

    def age_on(self, day: date) -> int:
        """Age in completed years on ``day`` (someone born on 29 February ages on 1 March)."""
        born = self.birth_date
        years = day.year - born.year
        if (day.month, day.day) < (born.month, born.day):
            years -= 1
        return years


def _clean(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationError("社会保障号码必须是文本（18位号码，请勿以数字格式保存）", field=_FIELD)
    if len(raw) == 18 and raw.isascii() and raw.isalnum():
        return raw.upper()  # already clean: NFKC and whitespace removal would change nothing
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "\u200b\u200c\u200d\ufeff").upper()


def _birth_date(digits8: str) -> date:
    try:
        return date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        raise ValidationError(
            f"社会保障号码中的出生日期 {digits8} 不是有效日期，请核对第7-14位", field=_FIELD
        ) from None


def _convert_15(text: str) -> str:
    if not text.isascii() or not text.isdigit():
        raise ValidationError("15位旧身份证号码只能包含数字", field=_FIELD)
    first17 = text[:6] + "19" + text[6:]
    return first17 + ssn_check_digit(first17)


def parse_ssn(raw: str, *, today: date | None = None) -> SSN:
    """Parse a social security number typed or imported by a clerk.

    Removes whitespace (also full-width), upper-cases ``x``, converts 15-digit legacy
    numbers (century 19) to 18 digits, and checks the format, birth date (real, not
    before 1900, not after ``today``), region code and check character. Every
    failure raises ``ValidationError`` with a message saying what to correct.
    """
    text = _clean(raw)
    if not text:
        raise ValidationError("社会保障号码不能为空", field=_FIELD)
    if "E+" in text or "E-" in text:
        raise ValidationError(
            "社会保障号码被表格软件转成了科学计数法（如 3.4E+17），请把该列设置为文本后重新填写", field=_FIELD
        )
    if len(text) == 15:
        text = _convert_15(text)
    elif len(text) != 18:
        raise ValidationError(f"社会保障号码应为18位（或15位旧号码），当前为{len(text)}位", field=_FIELD)
    if not text[:17].isascii() or not text[:17].isdigit():
        raise ValidationError("社会保障号码前17位必须是数字", field=_FIELD)
    if not (text[17].isascii() and (text[17].isdigit() or text[17] == "X")):
        raise ValidationError("社会保障号码最后一位必须是数字或X", field=_FIELD)

    born = _birth_date(text[6:14])
    if born.year < _MIN_BIRTH_YEAR:
        raise ValidationError(f"社会保障号码中的出生日期 {text[6:14]} 早于1900年，请核对", field=_FIELD)
    if born > (today or date.today()):
        raise ValidationError(f"社会保障号码中的出生日期 {text[6:14]} 晚于今天，请核对", field=_FIELD)

    if lookup_region(text[:6]) is None:
        province = lookup_region(text[:2] + "0000")
        where = f"（{province.name}下没有这个代码）" if province else ""
        raise ValidationError(f"社会保障号码前6位地区代码 {text[:6]} 不存在{where}，请核对", field=_FIELD)

    expected = ssn_check_digit(text[:17])
    if text[17] != expected:
        raise ValidationError(
            f"社会保障号码校验位错误：应为 {expected}，请核对号码是否录入有误", field=_FIELD
        )
    return SSN._checked(text)


_ALREADY_CLEAN_RE = re.compile(r"[0-9]{17}[0-9X]")
_CACHE_LIMIT = 4096


def clean_ssn_checker(*, today: date | None = None) -> Callable[[str], bool]:
    """A fast test for files of many numbers: ``check(text)`` is True only when :func:`parse_ssn`
    would accept ``text`` as it stands (no clean-up needed) and return it unchanged.

    False says nothing more: ask :func:`parse_ssn` for the verdict and the message. The checker
    caches the months and region codes it has seen (bounded), so it is meant for one file.
    """
    today8 = (today or date.today()).strftime("%Y%m%d")
    last_day: dict[str, str] = {}  # "YYYYMM" -> "DD" of its last day, "" for no such month
    known_region: dict[str, bool] = {}

    def check(text: str) -> bool:
        if len(text) != 18 or not _ALREADY_CLEAN_RE.fullmatch(text):
            return False
        born = text[6:14]
        if not "19000101" <= born <= today8:  # fixed-width digits compare like the dates
            return False
        month = born[:6]
        last = last_day.get(month)
        if last is None:
            m = int(month[4:])
            last = f"{calendar.monthrange(int(month[:4]), m)[1]:02d}" if 1 <= m <= 12 else ""
            last_day[month] = last
        if not "01" <= born[6:] <= last:
            return False
        code = text[:6]
        known = known_region.get(code)
        if known is None:
            known = lookup_region(code) is not None
            if len(known_region) < _CACHE_LIMIT:
                known_region[code] = known
        if not known:
            return False
        # The MOD 11-2 weights are the powers of 2 modulo 11, and 13 = 2 (mod 11): read in base 13,
        # the 17 digits give the weighted sum (halved) in one C call.
        return _CHECK_CHARS[2 * int(text[:17], 13) % 11] == text[17]

    return check


def is_valid_ssn(raw: str, *, today: date | None = None) -> bool:
    """True when :func:`parse_ssn` accepts ``raw``."""
    try:
        parse_ssn(raw, today=today)
    except ValidationError:
        return False
    return True


def make_ssn(region_code: str, birth: date, seq: int) -> str:
    """Build a well-formed 18-character number (for generators and tests).

    ``seq`` is the 3-digit sequence 0..999; its last digit's parity gives the sex
    (odd = male). The region code is not looked up.
    """
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError("region_code must be 6 ASCII digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be between 0 and 999")
    if not 1000 <= birth.year <= 9999:
        raise ValueError("birth year must have four digits")
    first17 = f"{region_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return first17 + ssn_check_digit(first17)
