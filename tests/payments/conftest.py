from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shebao.payments.models import BenefitType, Entitlement
from shebao.payments.services import entitlement_create


@dataclass
class Pay:
    """The shared world plus an employee-pension entitlement for person A (2345.60) and B (1800.00)."""

    world: Any
    pension: BenefitType
    ent_a: Entitlement
    ent_b: Entitlement


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # The world fixture hashes a password per persona; the production hasher makes that ~1 s per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SHEBAO_JOBS_INLINE = True


@pytest.fixture
def pay(world: Any) -> Pay:
    if not BenefitType.objects.filter(code="PEN-EMP").exists():
        # A transactional test elsewhere flushed the rows the data migration seeded: seed them again.
        import importlib

        from django.apps import apps

        importlib.import_module("shebao.payments.migrations.0002_benefit_types").seed(apps, None)
    pension = BenefitType.objects.get(code="PEN-EMP")
    ent_a = entitlement_create(
        person=world.person_a,
        benefit_type=pension,
        from_period=202301,
        amount="2345.60",
        actor=world.centre_clerk,
    )
    ent_b = entitlement_create(
        person=world.person_b,
        benefit_type=pension,
        from_period=202301,
        amount="1800.00",
        actor=world.centre_clerk,
    )
    return Pay(world=world, pension=pension, ent_a=ent_a, ent_b=ent_b)
