"""Comparison with shebao's own card records (the cards app) instead of a card-system file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.cards.models import CardState
from shebao.cards.services import card_activate_financial, card_activate_social, card_report_loss
from shebao.switching.cardsources import OwnCardSource
from shebao.switching.comparison import (
    card_extract_import,
    comparison_create,
    comparison_from_own_cards,
)
from shebao.switching.models import CardExtract, ComparisonResult, ComparisonRun
from tests.cards.factories import make_card
from tests.factories import PersonFactory, RegionFactory
from tests.switching.factories import beneficiary

pytestmark = pytest.mark.django_db

AT = timezone.make_aware(dt.datetime(2025, 3, 1, 10, 0))


def _person(world: Any, name: str) -> Any:
    return beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name=name)
    )


def _issued(world: Any, person: Any, *, social: bool = True, financial: bool = True, **kw: Any) -> Any:
    card = make_card(person, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, **kw)
    if social:
        card_activate_social(card=card, channel="window", place="窗口", actor=world.centre_clerk, at=AT)
    if financial:
        card_activate_financial(card=card, channel="counter", place="柜面", actor=world.centre_clerk, at=AT)
    card.refresh_from_db()
    return card


def _compare(world: Any, run: ComparisonRun | None = None) -> ComparisonRun:
    run = run or comparison_create(
        region=world.region,
        source_description="本系统社保卡记录",
        actor=world.centre_clerk,
        source_kind=ComparisonRun.Source.OWN_CARDS,
    )
    return comparison_from_own_cards(run=run, actor=world.centre_clerk)


def _klass(run: ComparisonRun, person: Any) -> tuple[str, str]:
    result = ComparisonResult.objects.get(run=run, person=person)
    return result.klass, result.reason


def test_it_classes_each_beneficiary_by_their_current_card(world: Any) -> None:
    activated = beneficiary(world.person_a)
    card = _issued(world, activated)
    not_activated = beneficiary(world.person_b)
    _issued(world, not_activated, financial=False)
    in_production = _person(world, "赵制卡中")
    make_card(in_production, world.bank_a, CardState.IN_PRODUCTION)
    no_card = _person(world, "钱无卡")
    cancelled_only = _person(world, "孙已注销")
    make_card(cancelled_only, world.bank_a, CardState.CANCELLED, outlet=world.outlet_a)
    lost = _person(world, "周挂失")
    card_report_loss(card=_issued(world, lost), kind="formal", actor=world.centre_clerk)
    replaced = _person(world, "吴补卡")
    _issued(world, replaced).__class__.objects.filter(person=replaced).update(state=CardState.REPLACED)
    make_card(replaced, world.bank_a, CardState.APPLIED)
    not_enabled = _person(world, "郑未启用")
    _issued(world, not_enabled, social=False)
    waiting = _person(world, "王网点待领")
    make_card(waiting, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)

    run = _compare(world)

    assert _klass(run, activated) == ("matched_activated", "")
    record = ComparisonResult.objects.get(run=run, person=activated).card_record
    assert (record.card_no, record.bank_account, record.bank_code) == (
        card.card_no,
        card.bank_account,
        world.bank_a.code,
    )
    assert (record.fin_activated, record.fin_activated_on) == (True, dt.date(2025, 3, 1))
    assert record.row_no == card.pk
    assert _klass(run, not_activated) == ("matched_not_activated", "not_activated")
    assert _klass(run, in_production) == ("matched_no_card", "")
    assert _klass(run, no_card) == ("not_matched", "ssn_unknown")
    assert _klass(run, cancelled_only) == ("not_matched", "ssn_unknown")
    assert _klass(run, lost) == ("matched_not_activated", "card_not_usable")
    # the replaced card is history; its replacement is still being made
    assert _klass(run, replaced) == ("matched_no_card", "")
    # issued but the social-insurance function not enabled, or not yet handed over: 封存
    assert _klass(run, not_enabled) == ("matched_not_activated", "card_not_usable")
    assert _klass(run, waiting) == ("matched_not_activated", "card_not_usable")
    assert run.total == 9
    assert run.extract is not None and run.extract.source == "本系统社保卡记录"


def test_it_compares_a_made_card_before_one_still_in_production(world: Any) -> None:
    person = beneficiary(world.person_a)
    second = _issued(world, person, generation=2)
    make_card(person, world.bank_a, CardState.APPLIED, generation=3)
    run = _compare(world)
    assert _klass(run, person) == ("matched_activated", "")
    assert ComparisonResult.objects.get(run=run, person=person).card_record.card_no == second.card_no


def test_it_takes_only_the_cards_of_the_region(world: Any) -> None:
    beneficiary(world.person_a)
    _issued(world, world.person_a)
    elsewhere = PersonFactory(region=RegionFactory(code="341522", name="霍邱县"), name="外地人")
    make_card(elsewhere, world.bank_a, CardState.APPLIED)
    run = _compare(world)
    assert run.extract is not None
    assert list(run.extract.records.values_list("ssn", flat=True)) == [world.person_a.ssn]


def test_unchanged_cards_are_one_extract_and_a_rerun_sees_new_activations(world: Any) -> None:
    person = beneficiary(world.person_a)
    card = _issued(world, person, financial=False)
    first = OwnCardSource(world.region)
    assert first.checksum() == OwnCardSource(world.region).checksum()
    run = _compare(world)
    assert _klass(run, person) == ("matched_not_activated", "not_activated")
    extract_id = run.extract_id
    assert card_extract_import(source=OwnCardSource(world.region), actor=world.centre_clerk).pk == extract_id

    card_activate_financial(card=card, channel="counter", place="柜面", actor=world.centre_clerk, at=AT)
    run = _compare(world, run)

    assert run.extract_id != extract_id
    assert CardExtract.objects.count() == 2
    assert ComparisonResult.objects.filter(run=run).count() == 1
    assert _klass(run, person) == ("matched_activated", "")


def test_the_raw_rows_read_like_a_card_system_extract(world: Any) -> None:
    _issued(world, world.person_a)
    [(row_no, raw)] = list(OwnCardSource(world.region).raw_rows())
    assert raw["ssn"] == world.person_a.ssn
    assert (raw["card_state"], raw["fin_activated"], raw["fin_activated_on"]) == ("正常", "是", "2025-03-01")


def test_it_is_chosen_on_the_comparison_page_and_rerun_there(
    world: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    beneficiary(world.person_a)
    card = _issued(world, world.person_a, financial=False)
    client.force_login(world.centre_clerk)
    page = client.get(reverse("switching:runs")).content.decode()
    assert "与本系统社保卡记录比对" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("switching:runs"), {"source": "own_cards"})
    run = ComparisonRun.objects.get()
    assert response.url == reverse("switching:run", args=[run.pk])
    assert (run.state, run.source_kind, run.counts["matched_not_activated"]) == ("done", "own_cards", 1)

    card_activate_financial(card=card, channel="counter", place="柜面", actor=world.centre_clerk, at=AT)
    detail = client.get(reverse("switching:run", args=[run.pk])).content.decode()
    assert "重新比对" in detail
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("switching:run_rerun", args=[run.pk]))
    run.refresh_from_db()
    assert run.counts["matched_activated"] == 1


def test_a_new_beneficiary_takes_the_account_of_their_activated_shebao_card(world: Any, client: Any) -> None:
    from shebao.core.values.period import period_of
    from shebao.people.models import PaymentAccount

    ready = _person(world, "新甲")
    card = _issued(world, ready)
    waiting = _person(world, "新乙")
    _issued(world, waiting, financial=False)
    _compare(world)

    client.force_login(world.centre_clerk)
    client.post(reverse("switching:new_beneficiaries"))

    account = PaymentAccount.objects.get(person=ready)
    assert (account.kind, account.source, account.bank, account.account_no, account.valid_from) == (
        "card",
        "new_beneficiary",
        world.bank_a,
        card.bank_account,
        period_of(timezone.localdate()),
    )
    assert not PaymentAccount.objects.filter(person=waiting).exists()
    page = client.get(reverse("switching:new_beneficiaries")).content.decode()
    assert "新乙" in page and "金融功能未激活" in page


def test_it_runs_from_the_command_line(world: Any, capsys: Any) -> None:
    from django.core.management import call_command

    beneficiary(world.person_a)
    _issued(world, world.person_a)
    call_command("compare", "--own-cards", "--region", world.region.code)
    out = capsys.readouterr().out
    assert "共1人" in out and "比对成功，已制卡并激活金融功能：1" in out
    assert ComparisonRun.objects.get().source_kind == "own_cards"
