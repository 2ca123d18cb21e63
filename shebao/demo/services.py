"""demo_seed: write the generated demo county into the database, set-based, in one transaction.

Every table is filled with chunked bulk_create; foreign keys are resolved by natural key (code, SSN) with one
query per chunk, never per row. Rows whose natural key already exists are left alone, so with
``existing="add_missing"`` a second run with the same arguments adds nothing, and a run with a larger
``persons`` adds only the new persons (the generator is prefix-stable, see shebao.demo.generator).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import models, transaction
from django.utils import timezone

from shebao.accounts.models import User
from shebao.audit.models import AuditLog
from shebao.audit.services import audit_record
from shebao.core.errors import StateError, ValidationError
from shebao.core.values.region import parse_region_code
from shebao.core.values.ssn import DEMO_REGION_CODE, make_ssn, parse_ssn
from shebao.demo.generator import DEFAULT_UNITS, DEMO_LOGINS, DEMO_PASSWORD, County, generate_county
from shebao.orgs.models import Bank, Employer, Outlet, Region, Township
from shebao.people.models import PaymentAccount, Person, PersonCategory

SEED_ACTION = "demo.seed"
CHUNK = 2000

Existing = Literal["refuse", "skip", "add_missing"]
M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


@dataclass
class SeedResult:
    """What a seed run did. `skipped_reason` is set when it did nothing on purpose."""

    created: dict[str, int] = field(default_factory=dict)  # table label -> rows created
    categories: Counter[str] = field(default_factory=Counter)  # category label -> persons created
    generated_persons: int = 0
    as_of: dt.date | None = None
    skipped_reason: str = ""

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def demo_region_check(region_code: str) -> str:
    """The region code if it is a county whose SSNs parse_ssn accepts; a ValidationError otherwise."""
    code = parse_region_code(region_code)
    if code.level != "county":
        raise ValidationError(f"演示数据需要县级地区代码，{region_code} 不是县级代码", field="region_code")
    try:
        parse_ssn(make_ssn(code.value, dt.date(1950, 1, 1), 1), today=dt.date(2000, 1, 1))
    except ValidationError as exc:
        raise ValidationError(
            f"地区代码 {region_code} 生成的社会保障号码无法通过校验（{exc.message}），请改用 {DEMO_REGION_CODE}",
            field="region_code",
        ) from None
    return code.value


def demo_seed(
    *,
    persons: int,
    seed: int,
    region_code: str,
    as_of: dt.date | None = None,
    units: int = DEFAULT_UNITS,
    existing: Existing = "refuse",
) -> SeedResult:
    """Generate the demo county and write it.

    ``existing`` decides what happens when any person is already in the database: ``"refuse"`` raises
    StateError, ``"skip"`` does nothing, ``"add_missing"`` adds only rows whose natural key is missing.
    ``as_of`` (ages and death dates count from it) defaults to the as-of date of the previous seed of this
    region, so that a rerun on a later day regenerates the same SSNs; on an empty database, to today.
    """
    region_code = demo_region_check(region_code)
    validate_password(DEMO_PASSWORD)  # the settings' validators must accept the password we print
    if Person.objects.exists():
        if existing == "skip":
            return SeedResult(skipped_reason="数据库中已有人员数据，未生成演示数据")
        if existing == "refuse":
            raise StateError(
                "数据库中已有人员数据。只在空库中生成演示数据；确需补充缺少的演示数据请加 --force"
            )
    if as_of is None:
        as_of = _previous_as_of(region_code) or timezone.localdate()
    county = generate_county(persons=persons, seed=seed, region_code=region_code, as_of=as_of, units=units)
    with transaction.atomic():
        result = _write(county)
        result.generated_persons = len(county.persons)
        if result.total_created:
            county_region = county.regions[-1]
            audit_record(
                actor="系统",
                action=SEED_ACTION,
                object_type="orgs.region",
                object_id=county_region.code,
                object_repr=f"演示数据：{county_region.name}",
                new={
                    "persons": persons,
                    "seed": seed,
                    "units": units,
                    "as_of": as_of,
                    "created": result.created,
                },
                reason="shebao seed",
            )
            if persons:
                # Cards, entitlements and payrolls in the same transaction: all of the demo or none.
                from shebao.demo.domain import seed_domain
                from shebao.orgs.models import Region

                region = Region.objects.get(code=county_region.code)
                result.created.update(seed_domain(region=region, as_of=as_of, seed=seed))
    result.as_of = as_of
    return result


def _previous_as_of(region_code: str) -> dt.date | None:
    new = (
        AuditLog.objects.filter(action=SEED_ACTION, object_type="orgs.region", object_id=region_code)
        .order_by("-at", "-id")
        .values_list("new", flat=True)
        .first()
    )
    try:
        return dt.date.fromisoformat(new["as_of"]) if new else None
    except (KeyError, TypeError, ValueError):
        return None


# --- writing ----------------------------------------------------------------------------------------


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids_by_key(model: type[models.Model], key: str, keys: Iterable[str]) -> dict[str, int]:
    """natural key -> primary key for the keys that exist, one query per chunk."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        found.update(model._default_manager.filter(**{f"{key}__in": chunk}).values_list(key, "pk"))
    return found


def _insert_missing(model: type[M], key: str, objects: Sequence[M]) -> list[M]:
    """bulk_create the objects whose natural key is not in the table yet; returns those objects."""
    present = _ids_by_key(model, key, [getattr(o, key) for o in objects])
    missing = [o for o in objects if getattr(o, key) not in present]
    for chunk in _chunks(missing):
        model._default_manager.bulk_create(chunk)
    return missing


def _write(county: County) -> SeedResult:
    result = SeedResult()
    created = result.created

    # Regions, parents first (three rows).
    region_ids: dict[str, int] = {}
    regions_created = 0
    for r in county.regions:
        region = Region.objects.filter(code=r.code).first()
        if region is None:
            region = Region.objects.create(
                code=r.code, name=r.name, level=r.level, parent_id=region_ids.get(r.parent_code or "")
            )
            regions_created += 1
        region_ids[r.code] = region.pk
    created["统筹区 regions"] = regions_created

    created["乡镇 townships"] = len(
        _insert_missing(
            Township,
            "code",
            [
                Township(
                    code=t.code,
                    name=t.name,
                    kind=t.kind,
                    region_id=region_ids[t.region_code],
                    contact_phone=t.contact_phone,
                )
                for t in county.townships
            ],
        )
    )
    township_ids = _ids_by_key(Township, "code", (t.code for t in county.townships))

    created["合作银行 banks"] = len(
        _insert_missing(
            Bank,
            "code",
            [
                Bank(code=b.code, name=b.name, short_name=b.short_name, payer_code=b.payer_code)
                for b in county.banks
            ],
        )
    )
    bank_ids = _ids_by_key(Bank, "code", (b.code for b in county.banks))

    created["服务网点 outlets"] = len(
        _insert_missing(
            Outlet,
            "code",
            [
                Outlet(
                    code=o.code,
                    name=o.name,
                    kind=o.kind,
                    region_id=region_ids[o.region_code],
                    bank_id=bank_ids[o.bank_code] if o.bank_code else None,
                    township_id=township_ids[o.township_code] if o.township_code else None,
                    address=o.address,
                    phone=o.phone,
                )
                for o in county.outlets
            ],
        )
    )

    created["参保单位 employers"] = len(
        _insert_missing(
            Employer,
            "code",
            [
                Employer(
                    code=e.code,
                    name=e.name,
                    kind=e.kind,
                    region_id=region_ids[e.region_code],
                    township_id=township_ids[e.township_code],
                    contact_name=e.contact_name,
                    contact_phone=e.contact_phone,
                    address=e.address,
                )
                for e in county.employers
            ],
        )
    )
    employer_ids = _ids_by_key(Employer, "code", (e.code for e in county.employers))

    new_persons = _insert_missing(
        Person,
        "ssn",
        [
            Person(
                ssn=p.ssn,
                name=p.name,
                name_initials=p.name_initials,
                sex=p.sex,
                birth_date=p.birth_date,
                ethnicity=p.ethnicity,
                phone=p.phone,
                address=p.address,
                lives_in_region=p.lives_in_region,
                region_id=region_ids[p.region_code],
                employer_id=employer_ids[p.employer_code] if p.employer_code else None,
                township_id=township_ids[p.township_code],
                death_date=p.death_date,
                is_beneficiary=bool(p.category),  # its one category is written below
            )
            for p in county.persons
        ],
    )
    created["人员 persons"] = len(new_persons)
    new_ssns = {p.ssn for p in new_persons}
    person_ids = _ids_by_key(Person, "ssn", new_ssns)

    category_rows = [
        PersonCategory(person_id=person_ids[p.ssn], category=p.category)
        for p in county.persons
        if p.category and p.ssn in new_ssns
    ]
    for category_chunk in _chunks(category_rows):
        PersonCategory.objects.bulk_create(category_chunk)
    created["人员类别 person categories"] = len(category_rows)
    labels = dict(PersonCategory._meta.get_field("category").flatchoices)
    result.categories = Counter(
        str(labels.get(p.category, "参保人员（无待遇）")) if p.category else "参保人员（无待遇）"
        for p in county.persons
        if p.ssn in new_ssns
    )

    account_rows = [
        PaymentAccount(
            person_id=person_ids[a.ssn],
            bank_id=bank_ids[a.bank_code],
            bank_name=a.bank_name,
            account_no=a.account_no,
            account_name=a.account_name,
            kind=a.kind,
            valid_from=a.valid_from,
            source=a.source,
            note=a.note,
        )
        for a in county.accounts
        if a.ssn in new_ssns
    ]
    for account_chunk in _chunks(account_rows):
        PaymentAccount.objects.bulk_create(account_chunk)
    created["发放账户 payment accounts"] = len(account_rows)

    created["用户 users"] = _write_users(county, region_ids, township_ids, bank_ids, employer_ids)
    return result


def _write_users(
    county: County,
    region_ids: dict[str, int],
    township_ids: dict[str, int],
    bank_ids: dict[str, int],
    employer_ids: dict[str, int],
) -> int:
    present = set(
        User.objects.filter(username__in=[u.username for u in county.users]).values_list(
            "username", flat=True
        )
    )
    wanted = [u for u in county.users if u.username not in present]
    if not wanted:
        return 0
    outlet_ids = _ids_by_key(Outlet, "code", (u.outlet_code for u in wanted if u.outlet_code))
    person_ids = _ids_by_key(Person, "ssn", (u.person_ssn for u in wanted if u.person_ssn))
    # A person already linked to another login cannot get a second one.
    linked = set(User.objects.filter(person_id__in=person_ids.values()).values_list("person_id", flat=True))
    # One hash for the one shared demo password: hashing is deliberately slow, and the salt is in the hash.
    password = make_password(DEMO_PASSWORD)
    users: list[User] = []
    for u in wanted:
        person_id = person_ids.get(u.person_ssn) if u.person_ssn else None
        if u.person_ssn and (person_id is None or person_id in linked):
            continue
        users.append(
            User(
                username=u.username,
                password=password,
                role=u.role,
                full_name=u.full_name,
                is_superuser=u.is_superuser,
                is_staff=u.is_superuser,
                region_id=region_ids[u.region_code] if u.region_code else None,
                employer_id=employer_ids[u.employer_code] if u.employer_code else None,
                township_id=township_ids[u.township_code] if u.township_code else None,
                bank_id=bank_ids[u.bank_code] if u.bank_code else None,
                outlet_id=outlet_ids[u.outlet_code] if u.outlet_code else None,
                person_id=person_id,
            )
        )
    User.objects.bulk_create(users)
    return len(users)


# --- reading the demo logins ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoginRow:
    username: str
    password: str
    role_label: str
    role_en: str
    organisation: str


def demo_login_rows() -> list[DemoLoginRow]:
    """The demo logins that exist, in display order; a changed password is shown as such, never guessed."""
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[d.username for d in DEMO_LOGINS]).select_related(
            "region", "employer", "township", "bank", "outlet", "person", "person__employer"
        )
    }
    checked: dict[str, bool] = {}  # the users share one hash: check each distinct hash once
    rows: list[DemoLoginRow] = []
    for demo in DEMO_LOGINS:
        user = users.get(demo.username)
        if user is None:
            continue
        if user.password not in checked:
            checked[user.password] = user.check_password(DEMO_PASSWORD)
        password = DEMO_PASSWORD if checked[user.password] else "（已修改 changed）"
        if not user.is_active:
            password += "（已停用 disabled）"
        rows.append(
            DemoLoginRow(user.username, password, demo.role_label, demo.description, _organisation(user))
        )
    return rows


def _organisation(user: User) -> str:
    if user.is_superuser:
        return "全部数据 all data"
    person: Any = user.person
    if person is not None:
        unit = f"，{person.employer.name}" if person.employer_id else ""
        return f"{person.name}{unit}"
    return user.org_label
