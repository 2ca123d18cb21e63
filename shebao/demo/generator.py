"""The demo county as plain tuples: a pure, deterministic function of (persons, seed, region code, as-of date).

Nothing here touches the database; `shebao.demo.services.demo_seed` writes what `generate_county` returns.

Determinism: one `random.Random(seed)` stream. Organisations are drawn first and do not depend on the
number of persons; persons are then drawn one after another, so the first 300 persons of a 20,000-person
county are exactly the 300 persons of a 300-person county with the same seed (and the same as-of date, from
which ages and death dates are counted).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from typing import Generic, NamedTuple, TypeVar

from shebao.core.values.bank import luhn_check_digit
from shebao.core.values.names import name_pinyin_initials
from shebao.core.values.period import next_period, period_first_day, period_of
from shebao.core.values.region import region_name
from shebao.core.values.ssn import make_ssn
from shebao.demo import data, names

T = TypeVar("T")

DEFAULT_UNITS = 300
INSTITUTION_SHARE = 0.15

# Category shares of all persons (a county pension centre's register), drawn independently per person.
CATEGORY_SHARES: tuple[tuple[str, float], ...] = (
    ("enterprise_retiree", 0.20),
    ("institution_retiree", 0.06),
    ("resident_pensioner", 0.28),
    ("retired_cadre", 0.0003),  # 离休干部: joined before 1949-10-01, so born before 1932; very few are alive
    ("work_injury", 0.02),
    ("unemployment", 0.01),
    ("maternity", 0.01),
)
PENSION_CATEGORIES = frozenset(
    {"enterprise_retiree", "institution_retiree", "resident_pensioner", "retired_cadre"}
)

# Age bands of pension recipients (weights); the share over 70 matters because of the age-70 rule
# (seed 002: over-70s keep their passbook unless they ask for the card).
PENSIONER_AGE_BANDS: tuple[tuple[int, int, int], ...] = (
    (55, 59, 14),
    (60, 64, 26),
    (65, 69, 25),
    (70, 74, 16),
    (75, 79, 9),
    (80, 84, 6),
    (85, 89, 3),
    (90, 95, 1),
)
# Probability of having died within the last three years, by age (about 2% of all persons overall).
DEATH_RATES: tuple[tuple[int, float], ...] = ((70, 0.012), (80, 0.055), (200, 0.13))
WORKING_AGE_DEATH_RATE = 0.002

HUI_SHARE = 0.01
DOT_NAME_SHARE = 0.005
EXT_B_SHARE = 0.0015
RARE_SHARE = 0.01
OUTSIDE_REGION_SHARE = 0.05
# A card account (社保卡账户) row after the passbook: most under-70s switched, fewer over-70s (age-70 rule).
CARD_SHARE_UNDER_70 = 0.8
CARD_SHARE_OVER_70 = 0.4
PASSBOOK_BAD_LUHN_SHARE = 0.017  # about 1% of all account rows: old passbook numbers renumbered by hand
VARIANT_SHARE_PLAIN = 0.0015
VARIANT_SHARE_RARE = 0.2
VARIANT_SHARE_DOT = 0.25

# Pensions were paid through banks ("社会化发放") from about 1998; the resident scheme started in 2011.
SOCIALISED_PAYMENT_FROM = 199801
RESIDENT_SCHEME_FROM = 201107
CARD_SWITCH_FROM = 201601

MOBILE_PREFIXES = names.words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 158 159 177 180 182 186 187 188 189 199"
)
AREA_CODE = "0564"


# --- rows -------------------------------------------------------------------------------------------


class RegionRow(NamedTuple):
    code: str
    name: str
    level: str
    parent_code: str | None


class TownshipRow(NamedTuple):
    code: str
    name: str
    kind: str
    region_code: str
    contact_phone: str


class EmployerRow(NamedTuple):
    code: str
    name: str
    kind: str
    region_code: str
    township_code: str
    contact_name: str
    contact_phone: str
    address: str


class BankRow(NamedTuple):
    code: str
    name: str
    short_name: str
    payer_code: str


class OutletRow(NamedTuple):
    code: str
    name: str
    kind: str
    region_code: str
    bank_code: str | None
    township_code: str | None
    address: str
    phone: str


class PersonRow(NamedTuple):
    ssn: str
    name: str
    name_initials: str
    sex: str
    birth_date: dt.date
    ethnicity: str
    phone: str
    address: str
    lives_in_region: bool
    region_code: str
    employer_code: str | None
    township_code: str
    death_date: dt.date | None
    category: str  # a BenefitCategory value, or "" for an insured person without a benefit


class AccountRow(NamedTuple):
    ssn: str
    bank_code: str
    bank_name: str
    account_no: str
    account_name: str
    kind: str
    valid_from: int
    source: str
    note: str


class UserRow(NamedTuple):
    username: str
    role: str
    full_name: str
    is_superuser: bool
    region_code: str | None = None
    employer_code: str | None = None
    township_code: str | None = None
    bank_code: str | None = None
    outlet_code: str | None = None
    person_ssn: str | None = None


class County(NamedTuple):
    regions: tuple[RegionRow, ...]
    townships: tuple[TownshipRow, ...]
    banks: tuple[BankRow, ...]
    outlets: tuple[OutletRow, ...]
    employers: tuple[EmployerRow, ...]
    persons: tuple[PersonRow, ...]
    accounts: tuple[AccountRow, ...]
    users: tuple[UserRow, ...]


# --- helpers ----------------------------------------------------------------------------------------


class _Weighted(Generic[T]):
    """Weighted choice by bisecting cumulative weights: one rng.random() per draw."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if not items:
            raise ValueError("nothing to choose from")
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _random_period(rng: random.Random, start: int, end: int) -> int:
    """A period between start and end inclusive (both YYYYMM)."""
    first = start // 100 * 12 + start % 100 - 1
    last = end // 100 * 12 + end % 100 - 1
    index = rng.randint(first, max(first, last))
    return index // 12 * 100 + index % 12 + 1


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> str:
    return f"{AREA_CODE}-{rng.randint(4010000, 4099999)}"


def _account_no(rng: random.Random, prefix: str, *, bad_luhn: bool = False) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(18 - len(prefix)))
    check = int(luhn_check_digit(body))
    if bad_luhn:
        check = (check + rng.randint(1, 9)) % 10
    return f"{body}{check}"


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- organisations ----------------------------------------------------------------------------------


def _regions(region_code: str) -> tuple[tuple[RegionRow, ...], str]:
    province_code, city_code = region_code[:2] + "0000", region_code[:4] + "00"
    known = data.KNOWN_COUNTIES.get(region_code)
    if known:
        province, city, county = known
    else:
        province = region_name(province_code) or "演示省"
        city = region_name(city_code) or "演示市"
        county = region_name(region_code) or "演示县"
    rows = (
        RegionRow(province_code, province, "province", None),
        RegionRow(city_code, city, "city", province_code),
        RegionRow(region_code, county, "county", city_code),
    )
    return rows, county


def _townships(rng: random.Random, region_code: str) -> tuple[TownshipRow, ...]:
    rows: list[TownshipRow] = []
    towns = itertools.count(100)
    townships = itertools.count(200)
    for spec in data.TOWNSHIPS:
        serial = next(towns) if spec.kind == "town" else next(townships)
        rows.append(
            TownshipRow(f"{region_code}{serial:03d}", spec.name, spec.kind, region_code, _landline(rng))
        )
    return tuple(rows)


def _banks_and_outlets(
    rng: random.Random, region_code: str, county: str, townships: Sequence[TownshipRow]
) -> tuple[tuple[BankRow, ...], tuple[OutletRow, ...]]:
    by_name = {t.name: t for t in townships}
    banks = tuple(
        BankRow(spec.code, spec.name.replace("寿县", county), spec.short_name, f"{region_code}{spec.code}")
        for spec in data.BANKS
    )
    outlets: list[OutletRow] = []
    for spec in data.BANKS:
        for n, (name, town) in enumerate(spec.outlets, start=1):
            outlets.append(
                OutletRow(
                    f"B{spec.code}{n:02d}",
                    name.replace("寿县", county),
                    "bank_branch",
                    region_code,
                    spec.code,
                    by_name[town].code,
                    f"{county}{town}{rng.choice(data.SEAT_STREETS)}{rng.randint(1, 300)}号",
                    _landline(rng),
                )
            )
    for n, (name, town) in enumerate(data.SERVICE_WINDOWS, start=1):
        outlets.append(
            OutletRow(
                f"W{region_code}{n:02d}",
                name.replace("寿县", county),
                "service_window",
                region_code,
                None,
                by_name[town].code,
                f"{county}{town}{rng.choice(data.SEAT_STREETS)}{rng.randint(1, 300)}号",
                data.CENTRE_PHONE,
            )
        )
    for township in townships:
        outlets.append(
            OutletRow(
                f"S{township.code}",
                f"{township.name}{data.GRASSROOTS_STATION_SUFFIX}",
                "grassroots_station",
                region_code,
                None,
                township.code,
                f"{county}{township.name}人民政府院内",
                township.contact_phone,
            )
        )
    return banks, tuple(outlets)


class _Unit(NamedTuple):
    row: EmployerRow
    retiree_weight: float
    employee_weight: float


def _employers(
    rng: random.Random,
    region_code: str,
    county: str,
    townships: Sequence[TownshipRow],
    township_pick: _Weighted[TownshipRow],
    name_maker: _NameMaker,
    units: int,
) -> list[_Unit]:
    n_institutions = round(units * INSTITUTION_SHARE)
    n_enterprises = units - n_institutions
    town_names = [t.name for t in townships]

    county_institutions = [n.format(county=county) for n in data.COUNTY_INSTITUTIONS]
    township_institutions = [n.format(township=t) for t in town_names for n in data.TOWNSHIP_INSTITUTIONS]
    rng.shuffle(township_institutions)
    institution_names = (county_institutions + township_institutions)[:n_institutions]

    # Units that issue cards collectively (seed 003) and old county enterprises carry many retirees.
    heavy = [data.localise_unit_name(n, county) for n in data.SEED_003_UNIT_NAMES]
    heavy += [n.format(county=county) for n in data.OLD_COUNTY_ENTERPRISES]
    township_firms = [n.format(township=t) for t in town_names for n in data.TOWNSHIP_ENTERPRISES]
    rng.shuffle(township_firms)
    enterprise_names = list(dict.fromkeys(heavy + township_firms[: len(town_names)]))
    taken = set(enterprise_names) | set(institution_names)
    attempts = 0
    while len(enterprise_names) < n_enterprises:
        attempts += 1
        trade, line = rng.choice(data.TRADE_NAMES), rng.choice(data.BUSINESS_LINES)
        form = rng.random()
        if form < 0.6:
            name = f"{county}{trade}{line}有限公司"
        elif form < 0.8:
            name = f"安徽{trade}{line}股份有限公司"
        else:
            name = f"{county}{rng.choice(town_names).removesuffix('镇').removesuffix('乡')}{line}厂"
        if name not in taken or attempts > 100_000:
            if name in taken:  # the name space ran out: number the duplicates
                name = f"{name}（{attempts}）"
            taken.add(name)
            enterprise_names.append(name)
    enterprise_names = enterprise_names[:n_enterprises]
    heavy_set = set(heavy)

    result: list[_Unit] = []
    for kind, prefix, names_ in (
        ("enterprise", "1", enterprise_names),
        ("institution", "2", institution_names),
    ):
        for n, name in enumerate(names_, start=1):
            town = _unit_township(name, townships) or township_pick.pick(rng)
            # Heavy-tailed sizes: a few large units, many small ones.
            size = min(rng.paretovariate(1.3), 40.0)
            if kind == "institution":
                big = name in county_institutions
                retiree_w, employee_w = size * (4 if big else 1), size * (4 if big else 1)
            elif name in heavy_set:
                retiree_w, employee_w = size * 5, size * 1.5
            else:
                retiree_w, employee_w = size * 0.6, size * 2
            contact_phone = _landline(rng) if rng.random() < 0.6 else _mobile(rng)
            row = EmployerRow(
                code=f"{region_code}{prefix}{n:04d}",
                name=name,
                kind=kind,
                region_code=region_code,
                township_code=town.code,
                contact_name=name_maker.han_name(
                    rng, sex=rng.choice("12"), birth_year=rng.randint(1970, 1995)
                ),
                contact_phone=contact_phone,
                address=f"{county}{town.name}{rng.choice(data.SEAT_STREETS)}{rng.randint(1, 500)}号",
            )
            result.append(_Unit(row, retiree_w, employee_w))
    return result


def _unit_township(name: str, townships: Sequence[TownshipRow]) -> TownshipRow | None:
    for t in townships:
        if name.startswith(t.name):
            return t
    return None


# --- names ------------------------------------------------------------------------------------------


class _NameMaker:
    def __init__(self) -> None:
        self.surnames = _Weighted([s for s, _ in names.SURNAMES], [w for _, w in names.SURNAMES])
        self.hui_surnames = _Weighted([s for s, _ in names.HUI_SURNAMES], [w for _, w in names.HUI_SURNAMES])
        self.dot_ethnicities = _Weighted(
            [e for e, _ in names.DOT_ETHNICITY_WEIGHTS], [w for _, w in names.DOT_ETHNICITY_WEIGHTS]
        )

    def given(self, rng: random.Random, *, sex: str, birth_year: int) -> str:
        r = rng.random()
        if r < EXT_B_SHARE:
            return rng.choice(names.EXT_B_GIVEN_NAMES[sex])
        if r < EXT_B_SHARE + RARE_SHARE:
            return rng.choice(names.RARE_GIVEN_NAMES[sex])
        return rng.choice(names.GIVEN_NAMES[(names.era_of(birth_year), sex)])

    def han_name(self, rng: random.Random, *, sex: str, birth_year: int, hui: bool = False) -> str:
        surname = (self.hui_surnames if hui else self.surnames).pick(rng)
        return surname + self.given(rng, sex=sex, birth_year=birth_year)

    def dot_name(self, rng: random.Random, *, sex: str) -> tuple[str, str]:
        ethnicity = self.dot_ethnicities.pick(rng)
        male, female, second = names.DOT_NAMES[ethnicity]
        first = rng.choice(male if sex == "1" else female)
        last = rng.choice([s for s in second if s != first])
        return f"{first}{names.MIDDLE_DOT}{last}", ethnicity


def _account_name_variant(rng: random.Random, name: str) -> str | None:
    """The name as a bank may have recorded it, or None when no realistic variant exists."""
    if names.MIDDLE_DOT in name:
        wrong = rng.choice(("", *names.WRONG_DOTS))
        return name.replace(names.MIDDLE_DOT, wrong)
    rare = [ch for ch in name if names.is_rare_char(ch)]
    if rare:
        ch = rng.choice(rare)
        if ord(ch) > 0xFFFF:
            return name.replace(ch, names.UNENCODABLE_PLACEHOLDER)
        return name.replace(ch, names.RARE_SUBSTITUTES[ch])
    convertible = [ch for ch in name if ch in names.TRADITIONAL]
    if convertible:
        ch = rng.choice(convertible)
        return name.replace(ch, names.TRADITIONAL[ch])
    return None


# --- the county -------------------------------------------------------------------------------------


def generate_county(
    *, persons: int, seed: int, region_code: str, as_of: dt.date, units: int = DEFAULT_UNITS
) -> County:
    """The whole demo county for `persons` persons; the same arguments always give the same tuples."""
    if persons < 0:
        raise ValueError("persons must be >= 0")
    if units < 10:
        raise ValueError("units must be >= 10")
    rng = random.Random(seed)
    name_maker = _NameMaker()

    regions, county = _regions(region_code)
    townships = _townships(rng, region_code)
    township_pick = _Weighted(townships, [spec.weight for spec in data.TOWNSHIPS])
    banks, outlets = _banks_and_outlets(rng, region_code, county, townships)
    unit_list = _employers(rng, region_code, county, townships, township_pick, name_maker, units)

    enterprises = [u for u in unit_list if u.row.kind == "enterprise"]
    institutions = [u for u in unit_list if u.row.kind == "institution"]
    pickers = {
        "enterprise_retiree": _Weighted(
            [u.row for u in enterprises], [u.retiree_weight for u in enterprises]
        ),
        "institution_retiree": _Weighted(
            [u.row for u in institutions], [u.retiree_weight for u in institutions]
        ),
        "enterprise_employee": _Weighted(
            [u.row for u in enterprises], [u.employee_weight for u in enterprises]
        ),
        "any_employee": _Weighted([u.row for u in unit_list], [u.employee_weight for u in unit_list]),
    }
    township_by_name = {t.name: t for t in townships}
    hui_township = township_by_name[data.HUI_TOWNSHIP]
    township_by_code = {t.code: t for t in townships}

    bank_specs = {b.code: b for b in data.BANKS}
    bank_names = {b.code: b.name for b in banks}
    card_bank_pick = _Weighted([b.code for b in data.BANKS], [b.weight for b in data.BANKS])
    # Resident pensioners bank where the villages have branches: the rural commercial bank and the post office.
    resident_bank_pick = _Weighted(["402", "403", "103", "102", "105"], [10, 6, 3, 1, 1])
    employee_bank_pick = _Weighted(["102", "103", "105", "402", "403"], [5, 4, 3, 2, 2])

    category_cum = list(itertools.accumulate(share for _, share in CATEGORY_SHARES))
    age_band = _Weighted(
        [(lo, hi) for lo, hi, _ in PENSIONER_AGE_BANDS], [w for _, _, w in PENSIONER_AGE_BANDS]
    )
    today_period = period_of(as_of)

    used_ssns: set[str] = set()
    used_accounts: set[str] = set()
    person_rows: list[PersonRow] = []
    account_rows: list[AccountRow] = []

    for _ in range(persons):
        # Category.
        i = bisect.bisect_right(category_cum, rng.random())
        category = CATEGORY_SHARES[i][0] if i < len(CATEGORY_SHARES) else ""
        pensioner = category in PENSION_CATEGORIES

        # Sex and birth date.
        sex = "2" if category == "maternity" else rng.choice("12")
        if category == "retired_cadre":
            birth = dt.date(rng.randint(1926, 1931), rng.randint(1, 12), rng.randint(1, 28))
        else:
            if pensioner:
                lo, hi = age_band.pick(rng)
                min_age = 60 if (sex == "1" or category == "resident_pensioner") else 55
            elif category == "maternity":
                lo, hi, min_age = 22, 42, 22
            else:
                lo, hi, min_age = (20 if category else 18), (59 if sex == "1" else 54), 18
            age = rng.randint(lo, hi)
            if age < min_age:  # a band below this person's pension age
                age = min_age + rng.randint(0, 4)
            youngest = _years_after(as_of, -age)  # turns `age` today
            birth = youngest - dt.timedelta(days=rng.randint(0, 364))
        age_now = _age_on(birth, as_of)

        # Ethnicity and name.
        r = rng.random()
        township: TownshipRow | None = None
        if r < HUI_SHARE:
            ethnicity = "回族"
            name = name_maker.han_name(rng, sex=sex, birth_year=birth.year, hui=True)
            township = hui_township
        elif r < HUI_SHARE + DOT_NAME_SHARE:
            name, ethnicity = name_maker.dot_name(rng, sex=sex)
        else:
            ethnicity = "汉族"
            name = name_maker.han_name(rng, sex=sex, birth_year=birth.year)

        # Employer.
        employer: EmployerRow | None = None
        if category in ("enterprise_retiree", "institution_retiree"):
            employer = pickers[category].pick(rng)
        elif category == "retired_cadre":
            employer = pickers["institution_retiree"].pick(rng)
        elif category == "work_injury":
            employer = pickers["enterprise_employee"].pick(rng)
        elif category == "maternity" or (category == "" and rng.random() < 0.65):
            employer = pickers["any_employee"].pick(rng)

        # Township: most people live near their unit.
        if township is None:
            if employer is not None and rng.random() < 0.6:
                township = township_by_code[employer.township_code]
            else:
                township = township_pick.pick(rng)

        # SSN: the sequence's parity is the sex; step it until the number is unique.
        seq = rng.randrange(500) * 2 + (1 if sex == "1" else 0)
        ssn = make_ssn(region_code, birth, seq)
        while ssn in used_ssns:
            seq = (seq + 2) % 1000
            ssn = make_ssn(region_code, birth, seq)
        used_ssns.add(ssn)

        # Residence and contact.
        lives_in_region = rng.random() >= OUTSIDE_REGION_SHARE
        if not lives_in_region:
            address = (
                f"{rng.choice(data.OUTSIDE_PLACES)}{rng.choice(data.SEAT_STREETS)}{rng.randint(1, 800)}号"
            )
        elif township.name == data.SEAT_TOWNSHIP:
            address = f"{county}{township.name}{rng.choice(data.SEAT_STREETS)}{rng.randint(1, 400)}号"
        else:
            address = f"{county}{township.name}{rng.choice(data.VILLAGE_PARTS)}村{rng.randint(1, 12)}组"
        phone = "" if age_now >= 75 and rng.random() < 0.3 else _mobile(rng)

        # When the pension started (the period of the first passbook row).
        pension_from = 0
        if pensioner:
            if category == "resident_pensioner":
                pension_from = max(period_of(_years_after(birth, 60)), RESIDENT_SCHEME_FROM)
            else:
                retire_age = (
                    60 if sex == "1" else (rng.choice((50, 55)) if category == "enterprise_retiree" else 55)
                )
                pension_from = max(period_of(_years_after(birth, retire_age)), SOCIALISED_PAYMENT_FROM)
            pension_from = min(pension_from, today_period)

        # Death: mostly the old, within the last three years and never before the pension started.
        rate = WORKING_AGE_DEATH_RATE
        if pensioner and category != "retired_cadre":
            rate = next(p for limit, p in DEATH_RATES if age_now < limit)
        death_date = None
        if rng.random() < rate:
            earliest = max(
                as_of - dt.timedelta(days=3 * 365), period_first_day(pension_from) if pensioner else birth
            )
            latest = as_of - dt.timedelta(days=15)
            if earliest < latest:
                death_date = earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))

        person_rows.append(
            PersonRow(
                ssn=ssn,
                name=name,
                name_initials=name_pinyin_initials(name),
                sex=sex,
                birth_date=birth,
                ethnicity=ethnicity,
                phone=phone,
                address=address,
                lives_in_region=lives_in_region,
                region_code=region_code,
                employer_code=employer.code if employer else None,
                township_code=township.code,
                death_date=death_date,
                category=category,
            )
        )

        # Payment accounts: a card row never starts after the month of death.
        last_period = next_period(today_period, -1)
        if death_date is not None:
            last_period = min(last_period, period_of(death_date))
        accounts: list[AccountRow] = []
        if pensioner:
            bank_code = (resident_bank_pick if category == "resident_pensioner" else employee_bank_pick).pick(
                rng
            )
            prefix = bank_specs[bank_code].passbook_prefix
            bad = rng.random() < PASSBOOK_BAD_LUHN_SHARE
            number = _account_no(rng, prefix, bad_luhn=bad)
            while number in used_accounts:
                number = _account_no(rng, prefix, bad_luhn=bad)
            used_accounts.add(number)
            accounts.append(
                AccountRow(
                    ssn,
                    bank_code,
                    bank_names[bank_code],
                    number,
                    name,
                    "passbook",
                    pension_from,
                    "import",
                    "",
                )
            )
            card_share = CARD_SHARE_UNDER_70 if age_now < 70 else CARD_SHARE_OVER_70
            card_from_first = max(next_period(pension_from, 12), CARD_SWITCH_FROM)
            if rng.random() < card_share and card_from_first <= last_period:
                card_from = _random_period(rng, card_from_first, last_period)
                source = "switch" if rng.random() < 0.8 else "card_activation"
                accounts.append(
                    _card_account(
                        rng, ssn, name, card_bank_pick.pick(rng), card_from, source, bank_names, used_accounts
                    )
                )
        elif category in ("work_injury", "unemployment", "maternity"):
            # New beneficiaries are paid into the card account from the start (seed 004).
            first = max(next_period(today_period, -36), CARD_SWITCH_FROM)
            if first <= last_period:
                card_from = _random_period(rng, first, last_period)
                accounts.append(
                    _card_account(
                        rng,
                        ssn,
                        name,
                        card_bank_pick.pick(rng),
                        card_from,
                        "new_beneficiary",
                        bank_names,
                        used_accounts,
                    )
                )

        if accounts:
            # The account that pays now carries a name the bank spells differently in a few cases;
            # middle dots and rare characters fail far more often than plain names.
            if names.MIDDLE_DOT in name:
                variant_share = VARIANT_SHARE_DOT
            elif any(names.is_rare_char(ch) for ch in name):
                variant_share = VARIANT_SHARE_RARE
            else:
                variant_share = VARIANT_SHARE_PLAIN
            if rng.random() < variant_share:
                variant = _account_name_variant(rng, name)
                if variant and variant != name:
                    accounts[-1] = accounts[-1]._replace(account_name=variant)
            account_rows.extend(accounts)

    persons_t = tuple(person_rows)
    employers_t = tuple(u.row for u in unit_list)
    users = _users(region_code, townships, banks, outlets, employers_t, persons_t, account_rows)
    return County(
        regions=regions,
        townships=townships,
        banks=banks,
        outlets=outlets,
        employers=employers_t,
        persons=persons_t,
        accounts=tuple(account_rows),
        users=users,
    )


def _card_account(
    rng: random.Random,
    ssn: str,
    name: str,
    bank_code: str,
    valid_from: int,
    source: str,
    bank_names: dict[str, str],
    used: set[str],
) -> AccountRow:
    prefix = next(b.card_prefix for b in data.BANKS if b.code == bank_code)
    number = _account_no(rng, prefix)
    while number in used:
        number = _account_no(rng, prefix)
    used.add(number)
    return AccountRow(ssn, bank_code, bank_names[bank_code], number, name, "card", valid_from, source, "")


# --- demo users -------------------------------------------------------------------------------------


class DemoLogin(NamedTuple):
    username: str
    role_label: str
    description: str


#: The demo logins in the order `shebao demo_logins` prints them.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("clerk", "中心经办员", "centre clerk"),
    DemoLogin("supervisor", "中心复核员", "centre supervisor"),
    DemoLogin("auditor", "审计员", "auditor"),
    DemoLogin("unit", "单位经办员（企业）", "unit clerk"),
    DemoLogin("unit2", "单位经办员（机关事业单位）", "unit clerk"),
    DemoLogin("town", "乡镇经办员", "township clerk"),
    DemoLogin("bank", "银行网点经办员", "bank outlet clerk"),
    DemoLogin("holder", "持卡人", "cardholder"),
    DemoLogin("admin", "系统管理员", "superuser"),
)
DEMO_PASSWORD = "shebao2026"


def _users(
    region_code: str,
    townships: Sequence[TownshipRow],
    banks: Sequence[BankRow],
    outlets: Sequence[OutletRow],
    employers: Sequence[EmployerRow],
    persons: Sequence[PersonRow],
    accounts: Sequence[AccountRow],
) -> tuple[UserRow, ...]:
    users = [
        UserRow("clerk", "centre_clerk", "周敏", False, region_code=region_code),
        UserRow("supervisor", "centre_supervisor", "孙立新", False, region_code=region_code),
        UserRow("auditor", "auditor", "钱文静", False, region_code=region_code),
    ]
    # `unit`: the enterprise with the most living retirees; `holder`: one of them, preferably with a card account.
    living_retirees: dict[str, list[PersonRow]] = {}
    unit_persons: dict[str, int] = {}
    for p in persons:
        if p.employer_code:
            unit_persons[p.employer_code] = unit_persons.get(p.employer_code, 0) + 1
            if p.category == "enterprise_retiree" and p.death_date is None:
                living_retirees.setdefault(p.employer_code, []).append(p)
    # max() keeps the first of equals, so ties go to the lowest code.
    unit = max(
        (e for e in employers if e.kind == "enterprise"), key=lambda e: len(living_retirees.get(e.code, ()))
    )
    unit2 = max((e for e in employers if e.kind == "institution"), key=lambda e: unit_persons.get(e.code, 0))
    users.append(UserRow("unit", "unit_clerk", unit.contact_name, False, employer_code=unit.code))
    users.append(UserRow("unit2", "unit_clerk", unit2.contact_name, False, employer_code=unit2.code))
    seat = next(t for t in townships if t.name == data.SEAT_TOWNSHIP)
    users.append(UserRow("town", "township_clerk", "吴海燕", False, township_code=seat.code))
    icbc = next(b for b in banks if b.code == "102")
    icbc_outlet = next(o for o in outlets if o.bank_code == icbc.code)
    users.append(
        UserRow("bank", "bank_clerk", "郑晓东", False, bank_code=icbc.code, outlet_code=icbc_outlet.code)
    )
    candidates = living_retirees.get(unit.code, [])
    if candidates:
        # A cardholder whose card account carries exactly their name makes the smoothest demo.
        name_of = {p.ssn: p.name for p in candidates}
        mine = [a for a in accounts if a.ssn in name_of]
        clean_card = {a.ssn for a in mine if a.kind == "card"} - {
            a.ssn for a in mine if a.account_name != name_of[a.ssn]
        }
        plain = [p for p in candidates if p.lives_in_region and names.MIDDLE_DOT not in p.name]
        holder = next((p for p in plain if p.ssn in clean_card), plain[0] if plain else candidates[0])
        users.append(UserRow("holder", "cardholder", holder.name, False, person_ssn=holder.ssn))
    users.append(UserRow("admin", "centre_supervisor", "系统管理员", True, region_code=region_code))
    return tuple(users)
