from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shebao.accounts.roles import Role
from tests.factories import (
    BankFactory,
    EmployerFactory,
    OutletFactory,
    PersonFactory,
    RegionFactory,
    TownshipFactory,
    UserFactory,
)
from tests.playwright_support import browser, page  # noqa: F401  (session-wide Playwright fixtures)


@dataclass
class World:
    """A small county: two units, two townships, two banks, persons spread over them, and one persona per role."""

    region: Any
    unit_a: Any
    unit_b: Any
    town_a: Any
    town_b: Any
    bank_a: Any
    bank_b: Any
    outlet_a: Any
    person_a: Any  # unit A, township A, account at bank A
    person_b: Any  # unit B, township B, account at bank B
    centre_clerk: Any
    supervisor: Any
    unit_clerk: Any
    township_clerk: Any
    bank_clerk: Any
    auditor: Any
    cardholder: Any


@pytest.fixture
def world(db: Any) -> World:
    from tests.factories import AccountFactory

    region = RegionFactory()
    unit_a, unit_b = EmployerFactory(region=region, name="甲单位"), EmployerFactory(region=region, name="乙单位")
    town_a, town_b = TownshipFactory(region=region, name="甲镇"), TownshipFactory(region=region, name="乙镇")
    bank_a, bank_b = BankFactory(name="甲银行"), BankFactory(name="乙银行")
    outlet_a = OutletFactory(region=region, bank=bank_a)
    person_a = PersonFactory(region=region, employer=unit_a, township=town_a, name="王小明")
    person_b = PersonFactory(region=region, employer=unit_b, township=town_b, name="李小红")
    AccountFactory(person=person_a, bank=bank_a)
    AccountFactory(person=person_b, bank=bank_b)
    return World(
        region=region,
        unit_a=unit_a,
        unit_b=unit_b,
        town_a=town_a,
        town_b=town_b,
        bank_a=bank_a,
        bank_b=bank_b,
        outlet_a=outlet_a,
        person_a=person_a,
        person_b=person_b,
        centre_clerk=UserFactory(username="clerk", role=Role.CENTRE_CLERK, region=region),
        supervisor=UserFactory(username="supervisor", role=Role.CENTRE_SUPERVISOR, region=region),
        unit_clerk=UserFactory(username="unit", role=Role.UNIT_CLERK, region=None, employer=unit_a),
        township_clerk=UserFactory(username="town", role=Role.TOWNSHIP_CLERK, region=None, township=town_a),
        bank_clerk=UserFactory(username="bank", role=Role.BANK_CLERK, region=None, bank=bank_a, outlet=outlet_a),
        auditor=UserFactory(username="auditor", role=Role.AUDITOR, region=region),
        cardholder=UserFactory(username="holder", role=Role.CARDHOLDER, region=None, person=person_a),
    )


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Every persona's password is hashed per test; the production hasher would cost ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
