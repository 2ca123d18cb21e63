"""Administrative region codes (GB/T 2260, 行政区划代码).

Codes are checked against the GB/T 2260 history that ships with python-stdnum
(``stdnum/cn/loc.dat``). That list keeps abolished codes together with the years
they were in use, e.g. 寿县 was 342422 until 1999, 341521 from 1999 to 2015 and is
340422 since it moved to 淮南市 in 2015. A person keeps the code of the place and
time their number was first assigned, so historic codes stay valid for identity
numbers; only a newly chosen *issuing* region needs a current code
(``parse_region_code(..., current_only=True)``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from shebao.core.errors import ValidationError

RegionLevel = Literal["province", "city", "county"]

_CODE_RE = re.compile(r"\d{6}")
_PERIOD_RE = re.compile(r"^\[(\d*)-(\d*)\](.*)$")

# Codes that appear in identity numbers but are missing from stdnum's list:
# 830000 is used in the number of the 台湾居民居住证 (residence permit, since 2018);
# 810000 / 820000 (Hong Kong / Macao) are in the list already.
_EXTRA_CODES: dict[str, tuple[str, str]] = {
    "830000": ("台湾居民居住证", "台湾居民居住证"),
}

# Names in the list that are structural placeholders, not places; left out of full names.
_PLACEHOLDER_NAMES = frozenset(
    {
        "市辖区",
        "县",
        "省直辖县级行政单位",
        "自治区直辖县级行政单位",
        "省直辖县级行政区划",
        "自治区直辖县级行政区划",
    }
)


@dataclass(frozen=True)
class RegionName:
    """One name a code carried, with the years it was in use (None = open-ended)."""

    name: str
    start_year: int | None
    end_year: int | None

    def in_use(self, year: int) -> bool:
        """Whether the code carried this name in ``year``."""
        if self.start_year is not None and year < self.start_year:
            return False
        return not (self.end_year is not None and year > self.end_year)


@dataclass(frozen=True)
class RegionInfo:
    """What the GB/T 2260 list knows about one code."""

    code: str
    province_name: str
    names: tuple[RegionName, ...]

    @property
    def name(self) -> str:
        """The most recent name of the code."""
        return self.names[-1].name

    @property
    def is_current(self) -> bool:
        """True when the code has not been abolished."""
        return self.names[-1].end_year is None


def _parse_names(raw: str) -> tuple[RegionName, ...]:
    names: list[RegionName] = []
    for part in raw.split(","):
        part = part.strip()
        match = _PERIOD_RE.match(part)
        if match:
            start, end, name = match.groups()
            names.append(RegionName(name, int(start) if start else None, int(end) if end else None))
        elif part:
            names.append(RegionName(part, None, None))
    return tuple(names)


@lru_cache(maxsize=8192)
def lookup_region(code: str) -> RegionInfo | None:
    """Look ``code`` up in the GB/T 2260 history; None when the code never existed.

    Never raises for a 6-digit string: stdnum's own lookup raises ``KeyError`` for an
    unknown county under a known province (python-stdnum 2.2), so we read the raw
    prefix table instead.
    """
    if not _CODE_RE.fullmatch(code):
        return None
    if code in _EXTRA_CODES:
        extra_province, extra_name = _EXTRA_CODES[code]
        return RegionInfo(code, extra_province, (RegionName(extra_name, 2018, None),))
    from stdnum import numdb  # local import: the data file is parsed on first use

    try:
        parts = numdb.get("cn/loc").info(code)
    except (LookupError, ValueError):  # defensive: stdnum's data API is not stable
        return None
    props: dict[str, str] = {}
    for _part, part_props in parts:
        props.update(part_props)
    province = props.get("province")
    county = props.get("county")
    if not province or not county:
        return None
    names = _parse_names(county)
    if not names:
        return None
    if code[2:] == "0000":
        province = names[-1].name
    else:
        # Prefer the name of the province's own entry: stdnum's province label for 81/82 is
        # written in traditional characters (香港特別行政區).
        top = lookup_region(code[:2] + "0000")
        province = top.name if top else province
    return RegionInfo(code, province, names)


@dataclass(frozen=True)
class RegionCode:
    """A validated 6-digit GB/T 2260 code."""

    value: str

    def __post_init__(self) -> None:
        if not _CODE_RE.fullmatch(self.value):
            raise ValidationError(f"地区代码应为6位数字，收到“{self.value}”", field="region_code")

    def __str__(self) -> str:
        return self.value

    @property
    def level(self) -> RegionLevel:
        """ "province" for xx0000, "city" for xxxx00, otherwise "county"."""
        if self.value.endswith("0000"):
            return "province"
        if self.value.endswith("00"):
            return "city"
        return "county"

    @property
    def province_code(self) -> str:
        """The province-level code (first two digits + 0000)."""
        return self.value[:2] + "0000"

    @property
    def city_code(self) -> str | None:
        """The prefecture-level code (first four digits + 00); None for a province."""
        if self.level == "province":
            return None
        return self.value[:4] + "00"

    @property
    def info(self) -> RegionInfo | None:
        """The GB/T 2260 entry, if the code is in the list."""
        return lookup_region(self.value)

    @property
    def name(self) -> str | None:
        """The most recent name of the code (e.g. 341521 → 寿县)."""
        return region_name(self.value)

    @property
    def full_name(self) -> str | None:
        """Province + city + county names, e.g. 安徽省六安市寿县."""
        return region_full_name(self.value)

    def contains(self, other: RegionCode | str) -> bool:
        """Whether ``other`` lies inside this region (a region contains itself)."""
        code = other.value if isinstance(other, RegionCode) else other
        if self.level == "province":
            return code[:2] == self.value[:2]
        if self.level == "city":
            return code[:4] == self.value[:4]
        return code == self.value


def parse_region_code(raw: str | int, *, current_only: bool = False) -> RegionCode:
    """Parse and check a GB/T 2260 region code.

    Raises ``ValidationError`` when the code is not 6 digits, never existed, or (with
    ``current_only``) has been abolished.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValidationError("地区代码应为6位数字", field="region_code")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        raise ValidationError("地区代码不能为空", field="region_code")
    if not _CODE_RE.fullmatch(text):
        raise ValidationError(f"地区代码应为6位数字，收到“{text}”", field="region_code")
    info = lookup_region(text)
    if info is None:
        province = lookup_region(text[:2] + "0000")
        if province is not None:
            raise ValidationError(
                f"地区代码 {text} 不存在（{province.name}下没有这个代码），请核对", field="region_code"
            )
        raise ValidationError(f"地区代码 {text} 不存在，请核对", field="region_code")
    if current_only and not info.is_current:
        raise ValidationError(
            f"地区代码 {text}（{info.name}）已撤销，请使用现行的行政区划代码", field="region_code"
        )
    return RegionCode(text)


def region_name(code: str) -> str | None:
    """The most recent name of ``code`` (341521 → 寿县, 340000 → 安徽省), or None."""
    info = lookup_region(code)
    return info.name if info else None


def region_full_name(code: str) -> str | None:
    """Province, city and county names joined (341521 → 安徽省六安市寿县), or None.

    Placeholder levels such as 市辖区 are left out; a level missing from the list is skipped.
    """
    info = lookup_region(code)
    if info is None:
        return None
    candidates = [code[:2] + "0000", code[:4] + "00", code]
    parts: list[str] = []
    for candidate in dict.fromkeys(candidates):
        level = lookup_region(candidate)
        if level is None or level.name in _PLACEHOLDER_NAMES:
            continue
        if not parts or parts[-1] != level.name:
            parts.append(level.name)
    return "".join(parts)


def region_known(code: str) -> bool:
    """Whether ``code`` ever existed in GB/T 2260 (abolished codes count)."""
    return lookup_region(code) is not None
