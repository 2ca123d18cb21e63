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


def _pension() -> Any:
    from shebao.payments.models import BenefitType

    if not BenefitType.objects.filter(code="PEN-EMP").exists():
        # A transactional test elsewhere flushed the rows the data migration seeded: seed them again.
        import importlib

        from django.apps import apps

        importlib.import_module("shebao.payments.migrations.0002_benefit_types").seed(apps, None)
    return BenefitType.objects.get(code="PEN-EMP")


def _grant(world: Any, person: Any, from_period: int = 202607) -> Any:
    from shebao.payments.services import entitlement_create

    return entitlement_create(
        person=person,
        benefit_type=_pension(),
        from_period=from_period,
        amount="1500.00",
        actor=world.centre_clerk,
    )


def test_a_benefit_that_starts_takes_the_activated_card_by_itself(
    world: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from shebao.audit.models import AuditLog
    from shebao.cards.models import CardAccountOffer
    from tests.switching.test_own_cards import _issued

    person = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="新丙")
    card = _issued(world, person)
    with django_capture_on_commit_callbacks(execute=True):
        _grant(world, person)

    account = PaymentAccount.objects.get(person=person)
    assert (account.kind, account.source, account.valid_from, account.account_no, account.bank) == (
        "card",
        "new_beneficiary",
        202607,
        card.bank_account,
        world.bank_a,
    )
    assert CardAccountOffer.objects.get(card=card).state == "applied"
    audit = AuditLog.objects.get(action="account.add", object_id=str(account.pk))
    assert (audit.actor, audit.new["source"]) == (world.centre_clerk, "new_beneficiary")
    client.force_login(world.centre_clerk)
    assert "新丙" not in client.get(reverse("switching:new_beneficiaries")).content.decode()


def test_without_a_card_they_wait_on_the_list_until_the_card_is_activated(
    world: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from shebao.cards.services import card_activate_financial
    from tests.switching.test_own_cards import AT, _issued

    person = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="新丁")
    )
    card = _issued(world, person, financial=False)
    with django_capture_on_commit_callbacks(execute=True):
        _grant(world, person, from_period=202605)
    assert not PaymentAccount.objects.filter(person=person).exists()
    client.force_login(world.centre_clerk)
    assert "新丁" in client.get(reverse("switching:new_beneficiaries")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        card_activate_financial(card=card, channel="counter", place="柜面", actor=world.centre_clerk, at=AT)
    account = PaymentAccount.objects.get(person=person)
    assert (account.source, account.valid_from) == ("new_beneficiary", 202605)  # from the benefit's start
    assert "新丁" not in client.get(reverse("switching:new_beneficiaries")).content.decode()


def test_a_person_who_already_has_an_account_or_no_benefit_is_left_alone(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.switching.test_own_cards import _issued

    has_account = world.person_a
    before = list(PaymentAccount.objects.filter(person=has_account).values_list("pk", flat=True))
    _issued(world, has_account)
    stranger = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="非待遇")
    with django_capture_on_commit_callbacks(execute=True):
        _issued(world, stranger)  # activated, but no benefit: not a payment account
        _grant(world, has_account)
    assert list(PaymentAccount.objects.filter(person=has_account).values_list("pk", flat=True)) == before
    assert not PaymentAccount.objects.filter(person=stranger).exists()


def test_the_scheduled_sweep_takes_the_cards_found_by_the_comparison(
    world: Any, tmp_path: Path, capsys: Any
) -> None:
    from django.core.management import call_command

    ready = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name="新戊")
    )
    waiting = beneficiary(
        PersonFactory(region=world.region, employer=None, township=world.town_a, name="新己")
    )
    path = write_card_xlsx(
        tmp_path / "cards.xlsx",
        [card_row(ready, bank_code=world.bank_a.code), card_row(waiting, activated=False, account="")],
    )
    extract = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
    run = comparison_create(
        region=world.region, source_description="cards", actor=world.centre_clerk, extract=extract
    )
    comparison_execute(run=run, actor=world.centre_clerk)
    args = ("switching_sweep", "--user", world.centre_clerk.username, "--region", world.region.code)
    call_command(*args, "--period", "202608")
    assert "新增待遇人员启用社保卡账户：1人，待跟进：1人" in capsys.readouterr().out
    account = PaymentAccount.objects.get(person=ready)
    assert (account.valid_from, account.bank, account.note) == (
        202608,
        world.bank_a,
        f"比对#{run.pk}：社保卡已激活",
    )
    call_command(*args)
    assert "启用社保卡账户：0人，待跟进：1人" in capsys.readouterr().out
    assert PaymentAccount.objects.filter(source="new_beneficiary").count() == 1
