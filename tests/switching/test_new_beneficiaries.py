"""河南: new beneficiaries take their activated card account automatically; the rest are listed for follow-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.core.values.period import period_of
from shebao.people.models import PaymentAccount
from shebao.switching.cardsources import FileCardSource
from shebao.switching.comparison import card_extract_import, comparison_create, comparison_execute
from tests.factories import PersonFactory
from tests.switching.factories import beneficiary, card_row, write_card_xlsx

pytestmark = pytest.mark.django_db


def test_it_gives_new_beneficiaries_their_activated_card_account(
    world: Any, client: Any, tmp_path: Path
) -> None:
    ready = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="新甲")
    )
    waiting = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="新乙")
    )
    old_hand = beneficiary(world.person_a)  # already has an account: untouched
    path = write_card_xlsx(
        tmp_path / "cards.xlsx",
        [
            card_row(ready, bank_code=world.bank_a.code),
            card_row(waiting, activated=False),
            card_row(old_hand),
        ],
    )
    extract = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
    run = comparison_create(
        region=world.region, source_description="cards", actor=world.centre_clerk, extract=extract
    )
    comparison_execute(run=run, actor=world.centre_clerk)

    client.force_login(world.centre_clerk)
    client.post(reverse("switching:new_beneficiaries"))
    account = PaymentAccount.objects.get(person=ready)
    assert (account.kind, account.source, account.bank, account.valid_from) == (
        "card",
        "new_beneficiary",
        world.bank_a,
        period_of(timezone.localdate()),
    )
    assert not PaymentAccount.objects.filter(person=waiting).exists()
    assert PaymentAccount.objects.filter(person=old_hand).count() == 1
    page = client.get(reverse("switching:new_beneficiaries")).content.decode()
    assert "新乙" in page and "金融功能未激活" in page and "新甲" not in page
    client.post(reverse("switching:new_beneficiaries"))  # again: nothing new
    assert PaymentAccount.objects.filter(source="new_beneficiary").count() == 1
