"""`shebao seed` and `shebao demo_logins`: the deterministic demo county."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shebao.accounts.models import User
from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.core.values.bank import luhn_valid
from shebao.core.values.names import MIDDLE_DOT, name_pinyin_initials, validate_person_name
from shebao.core.values.ssn import parse_ssn
from shebao.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, PENSION_CATEGORIES, County, generate_county
from shebao.orgs.models import Bank, Employer, Outlet, Region, Township
from shebao.people.models import PaymentAccount, Person, PersonCategory

AS_OF = dt.date(2026, 11, 28)
REGION = "341521"


def county(persons: int, seed: int = 7) -> County:
    return generate_county(persons=persons, seed=seed, region_code=REGION, as_of=AS_OF)


@pytest.fixture(scope="module")
def big() -> County:
    return county(5000)


def share(count: int, total: int) -> float:
    return count / total


# --- the generator, without the database -------------------------------------------------------------


def test_it_generates_the_same_county_for_the_same_seed() -> None:
    first, second = county(300), county(300)
    assert first == second
    assert [p.ssn for p in first.persons] == [p.ssn for p in second.persons]
    assert county(300, seed=8).persons != first.persons


def test_it_keeps_the_first_persons_when_more_are_asked_for() -> None:
    small, larger = county(300), county(600)
    assert larger.persons[:300] == small.persons
    assert larger.employers == small.employers


def test_it_makes_valid_unique_ssns_of_the_county(big: County) -> None:
    ssns = [p.ssn for p in big.persons]
    assert len(set(ssns)) == len(ssns)
    for p in big.persons:
        parsed = parse_ssn(p.ssn, today=AS_OF)
        assert parsed.region_code == REGION
        assert (parsed.sex, parsed.birth_date) == (p.sex, p.birth_date)
        assert p.region_code == REGION


def test_it_builds_the_region_chain_townships_banks_and_outlets(big: County) -> None:
    assert [(r.code, r.name, r.parent_code) for r in big.regions] == [
        ("340000", "安徽省", None),
        ("341500", "六安市", "340000"),
        ("341521", "寿县", "341500"),
    ]
    names = {t.name for t in big.townships}
    assert len(big.townships) >= 20
    assert {"寿春镇", "正阳关镇", "陶店回族乡", "八公山乡"} <= names
    assert all(t.code.startswith(REGION) and len(t.code) == 9 for t in big.townships)
    assert {b.code for b in big.banks} >= {"102", "103", "105", "402", "403"}
    branches = Counter(o.bank_code for o in big.outlets if o.kind == "bank_branch")
    assert all(2 <= branches[b.code] <= 4 for b in big.banks)
    kinds = Counter(o.kind for o in big.outlets)
    assert kinds["service_window"] >= 1 and kinds["grassroots_station"] >= 5


def test_it_mixes_real_unit_names_with_generated_ones_and_institutions(big: County) -> None:
    employers = big.employers
    assert len(employers) == 300
    assert len({e.code for e in employers}) == 300
    names = {e.name for e in employers}
    assert "天润曲轴股份有限公司" in names  # verbatim from seed 003
    assert "国网安徽省电力公司寿县供电公司" in names  # seed 003, moved from 文登 to 寿县
    assert {"寿县第一中学", "寿县人民医院", "寿县财政局"} <= names
    institutions = [e for e in employers if e.kind == "institution"]
    assert 0.12 <= share(len(institutions), len(employers)) <= 0.18
    assert all(e.contact_name and e.contact_phone and e.township_code for e in employers)


def test_it_writes_realistic_names(big: County) -> None:
    names = [p.name for p in big.persons]
    assert any(MIDDLE_DOT in n for n in names)
    assert any(ord(ch) > 0xFFFF for n in names for ch in n)  # CJK Extension B
    assert any(ch in "堃喆昇赟玥燚犇" for n in names for ch in n)
    assert all(validate_person_name(n) == n for n in names)
    assert all(p.name_initials == name_pinyin_initials(p.name) for p in big.persons)
    hui = [p for p in big.persons if p.ethnicity == "回族"]
    tao_dian = next(t.code for t in big.townships if t.name == "陶店回族乡")
    assert hui and all(p.township_code == tao_dian for p in hui)
    assert 0.005 <= share(len(hui), len(names)) <= 0.02
    dotted = [p for p in big.persons if MIDDLE_DOT in p.name]
    assert all(p.ethnicity in ("维吾尔族", "藏族", "哈萨克族") for p in dotted)
    assert share(sum(p.ethnicity == "汉族" for p in big.persons), len(names)) > 0.97
    surnames = Counter(n[0] for n in names)
    assert {s for s, _ in surnames.most_common(5)} <= {"王", "李", "张", "刘", "陈", "杨"}


def test_it_keeps_categories_ages_and_deaths_in_realistic_proportions(big: County) -> None:
    total = len(big.persons)
    categories = Counter(p.category for p in big.persons)
    assert 0.17 <= share(categories["enterprise_retiree"], total) <= 0.23
    assert 0.045 <= share(categories["institution_retiree"], total) <= 0.075
    assert 0.25 <= share(categories["resident_pensioner"], total) <= 0.31
    assert 0.50 <= share(sum(categories[c] for c in PENSION_CATEGORIES), total) <= 0.60
    assert 0.01 <= share(categories["work_injury"], total) <= 0.03
    assert 0.005 <= share(categories["unemployment"], total) <= 0.015
    assert 0.005 <= share(categories["maternity"], total) <= 0.015
    assert 0.35 <= share(categories[""], total) <= 0.48

    pensioners = [p for p in big.persons if p.category in PENSION_CATEGORIES]
    ages = [(AS_OF - p.birth_date).days // 365 for p in pensioners if p.category != "retired_cadre"]
    assert min(ages) >= 55 and max(ages) <= 96
    assert 0.25 <= share(sum(a >= 70 for a in ages), len(ages)) <= 0.45
    assert all(p.birth_date.year < 1932 for p in big.persons if p.category == "retired_cadre")
    assert all(p.death_date is None for p in big.persons if p.category == "retired_cadre")

    dead = [p for p in big.persons if p.death_date]
    assert 0.01 <= share(len(dead), total) <= 0.03
    assert all(AS_OF - dt.timedelta(days=3 * 366) <= p.death_date < AS_OF for p in dead)
    assert 0.035 <= share(sum(not p.lives_in_region for p in big.persons), total) <= 0.065

    unit_kind = {e.code: e.kind for e in big.employers}
    for p in big.persons:
        if p.category in ("enterprise_retiree", "work_injury"):
            assert unit_kind[p.employer_code] == "enterprise"
        elif p.category in ("institution_retiree", "retired_cadre"):
            assert unit_kind[p.employer_code] == "institution"
        elif p.category in ("resident_pensioner", "unemployment"):
            assert p.employer_code is None


def test_it_gives_every_pensioner_an_account_history(big: County) -> None:
    by_person: dict[str, list] = {}
    for a in big.accounts:
        by_person.setdefault(a.ssn, []).append(a)
    persons = {p.ssn: p for p in big.persons}
    pensioners = [p for p in big.persons if p.category in PENSION_CATEGORIES]
    for p in pensioners:
        rows = by_person[p.ssn]
        assert rows[0].kind == "passbook"
        assert all(r.kind == "card" and r.valid_from > rows[0].valid_from for r in rows[1:])
    with_card = sum(len(by_person[p.ssn]) > 1 for p in pensioners)
    assert 0.5 <= share(with_card, len(pensioners)) <= 0.7

    numbers = [a.account_no for a in big.accounts]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 19 and n.isdigit() for n in numbers)
    bad_luhn = [a for a in big.accounts if not luhn_valid(a.account_no)]
    assert bad_luhn and all(a.kind == "passbook" for a in bad_luhn)
    assert 0.003 <= share(len(bad_luhn), len(numbers)) <= 0.02

    differing = [a for a in big.accounts if a.account_name != persons[a.ssn].name]
    assert 0.001 <= share(len(differing), len(by_person)) <= 0.012
    for p in big.persons:
        if p.death_date:
            assert all(
                a.valid_from <= p.death_date.year * 100 + p.death_date.month for a in by_person.get(p.ssn, [])
            )


# --- the commands, with the database -----------------------------------------------------------------


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db: None) -> County:
    seed("--persons", "300", "--seed", "3", "--as-of", AS_OF.isoformat())
    return generate_county(persons=300, seed=3, region_code=REGION, as_of=AS_OF)


def test_it_seeds_what_the_generator_makes(seeded: County) -> None:
    assert Person.objects.count() == 300
    assert set(Person.objects.values_list("ssn", flat=True)) == {p.ssn for p in seeded.persons}
    assert Township.objects.count() == len(seeded.townships)
    assert Employer.objects.count() == 300
    assert Bank.objects.count() == len(seeded.banks)
    assert Outlet.objects.count() == len(seeded.outlets)
    assert PaymentAccount.objects.count() == len(seeded.accounts)
    assert PersonCategory.objects.count() == sum(1 for p in seeded.persons if p.category)
    county_region = Region.objects.get(code=REGION)
    assert county_region.parent.code == "341500" and county_region.parent.parent.code == "340000"
    sample = seeded.persons[0]
    person = Person.objects.select_related("township", "employer").get(ssn=sample.ssn)
    assert (person.name, person.birth_date, person.township.code) == (
        sample.name,
        sample.birth_date,
        sample.township_code,
    )
    audit = AuditLog.objects.get(action="demo.seed")
    assert audit.actor_label == "系统" and audit.new["persons"] == 300


def test_it_creates_every_demo_user_with_its_role_and_organisation(seeded: County, client) -> None:
    users = {
        u.username: u for u in User.objects.select_related("employer", "township", "bank", "outlet", "person")
    }
    assert set(users) == {d.username for d in DEMO_LOGINS}
    expected_roles = {
        "clerk": Role.CENTRE_CLERK,
        "supervisor": Role.CENTRE_SUPERVISOR,
        "auditor": Role.AUDITOR,
        "unit": Role.UNIT_CLERK,
        "unit2": Role.UNIT_CLERK,
        "town": Role.TOWNSHIP_CLERK,
        "bank": Role.BANK_CLERK,
        "holder": Role.CARDHOLDER,
    }
    for username, role in expected_roles.items():
        assert users[username].role == role
    assert users["clerk"].region.code == REGION
    assert users["unit"].employer.kind == Employer.Kind.ENTERPRISE
    assert users["unit2"].employer.kind == Employer.Kind.INSTITUTION
    assert users["town"].township.name == "寿春镇"
    assert users["bank"].bank.code == "102" and users["bank"].outlet.bank_id == users["bank"].bank_id
    holder = users["holder"].person
    assert holder.employer_id == users["unit"].employer_id and holder.death_date is None
    assert holder.categories.filter(category="enterprise_retiree").exists()
    assert users["admin"].is_superuser
    for username in users:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()


def test_it_does_nothing_with_if_empty_on_a_seeded_database(seeded: County) -> None:
    out = seed("--persons", "500", "--seed", "4", "--if-empty")
    assert "nothing seeded" in out
    assert Person.objects.count() == 300
    assert AuditLog.objects.filter(action="demo.seed").count() == 1


def test_it_refuses_a_seeded_database_without_force(seeded: County) -> None:
    with pytest.raises(CommandError, match="--force"):
        seed("--persons", "300", "--seed", "3")
    assert Person.objects.count() == 300


def test_it_adds_nothing_twice_with_force(seeded: County) -> None:
    out = seed("--persons", "300", "--seed", "3", "--force")  # as-of comes from the first seed
    assert "nothing added" in out
    assert PaymentAccount.objects.count() == len(seeded.accounts)
    seed("--persons", "350", "--seed", "3", "--force")
    assert Person.objects.count() == 350
    assert User.objects.count() == len(DEMO_LOGINS)


def test_it_rejects_a_region_code_that_is_not_a_county(db: None) -> None:
    with pytest.raises(CommandError, match="县级"):
        seed("--persons", "10", "--region-code", "340000")
    assert not Person.objects.exists()


def test_it_lists_every_demo_login(seeded: County) -> None:
    out = StringIO()
    call_command("demo_logins", "--url", "http://demo.example/", stdout=out)
    text = out.getvalue()
    assert "http://demo.example/" in text
    for demo in DEMO_LOGINS:
        assert demo.username in text and demo.role_label in text
    assert text.count(DEMO_PASSWORD) == len(DEMO_LOGINS)
    assert "寿春镇" in text and "中国工商银行寿县支行" in text


def test_it_lists_only_demo_logins_that_exist(db: None) -> None:
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "shebao seed" in out.getvalue()
    assert DEMO_PASSWORD not in out.getvalue()
