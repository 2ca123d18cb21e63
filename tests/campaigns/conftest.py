from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shebao.payments.models import BenefitType
from shebao.payments.services import entitlement_create


@dataclass
class Pay:
    """The shared world plus an employee pension for person A (2345.60) and B (1800.00)."""

    world: Any
    pension: BenefitType


@pytest.fixture
def pay(world: Any) -> Pay:
    if not BenefitType.objects.filter(code="PEN-EMP").exists():
        # A transactional test elsewhere flushed the rows the data migration seeded: seed them again.
        import importlib

        from django.apps import apps

        importlib.import_module("shebao.payments.migrations.0002_benefit_types").seed(apps, None)
    pension = BenefitType.objects.get(code="PEN-EMP")
    for person, amount in ((world.person_a, "2345.60"), (world.person_b, "1800.00")):
        entitlement_create(
            person=person, benefit_type=pension, from_period=202301, amount=amount, actor=world.centre_clerk
        )
    return Pay(world=world, pension=pension)
