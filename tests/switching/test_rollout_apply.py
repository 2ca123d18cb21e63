"""Item 2 applied: the rollout rules switch those they switch automatically (via the supervisors' queue);
those who stay unless they ask, the exempt and those waiting for a card are only counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied
from shebao.people.models import BenefitCategory, PaymentAccount
from shebao.switching.automatic import rollout_switches_prepare
from shebao.switching.cardsources import FileCardSource
from shebao.switching.comparison import card_extract_import, comparison_create, comparison_execute
from shebao.switching.models import AccountChange
from shebao.switching.services import account_change_approve, rollout_rule_save, switch_preference_record
from tests.factories import AccountFactory, PersonFactory
from tests.switching.factories import beneficiary, card_row, write_card_xlsx

pytestmark = pytest.mark.django_db
YOUNG, OLD = dt.date(1950, 3, 1), dt.date(1940, 3, 1)


def _person(world: Any, name: str, born: dt.date, category: str = BenefitCategory.ENTERPRISE_RETIREE) -> Any:
    person = beneficiary(
        PersonFactory(
            region=world.region, employer=world.unit_a, township=world.town_a, name=name, birth_date=born
        ),
        category,
    )
    AccountFactory(person=person, bank=world.bank_b)
    return person


def _world(world: Any, tmp_path: Path) -> dict[str, Any]:
    rollout_rule_save(
        actor=world.supervisor,
        category=BenefitCategory.ENTERPRISE_RETIREE,
        pays_from=201506,
        auto_born_on_or_after=dt.date(1945, 1, 1),
        note="佛山：70周岁以下自动切换",
    )
    rollout_rule_save(
        actor=world.supervisor, category=BenefitCategory.RETIRED_CADRE, pays_from=201506, exempt=True
    )
    people = {
        "young": _person(world, "青年甲", YOUNG),
        "old": _person(world, "老年乙", OLD),
        "old_asks": _person(world, "老年丙", OLD),
        "young_stays": _person(world, "青年丁", YOUNG),
        "no_activation": _person(world, "青年戊", YOUNG),
        "cadre": _person(world, "离休己", YOUNG, BenefitCategory.RETIRED_CADRE),
    }
    for key, choice in (("old_asks", "switch"), ("young_stays", "stay")):
        switch_preference_record(
            actor=world.centre_clerk, person=people[key], choice=choice, asked_on=dt.date(2026, 1, 5)
        )
    rows = [
        card_row(
            p,
            bank_code=world.bank_a.code,
            account=f"622848000000000{i:04d}",
            activated=key != "no_activation",
        )
        for i, (key, p) in enumerate(people.items())
    ]
    extract = card_extract_import(
        source=FileCardSource(write_card_xlsx(tmp_path / "cards.xlsx", rows)), actor=world.centre_clerk
    )
    run = comparison_create(
        region=world.region, source_description="cards", actor=world.centre_clerk, extract=extract
    )
    comparison_execute(run=run, actor=world.centre_clerk)
    return people


def test_it_prepares_the_automatic_switches_for_the_supervisor(
    world: Any, client: Any, tmp_path: Path
) -> None:
    people = _world(world, tmp_path)
    client.force_login(world.centre_clerk)
    response = client.post(reverse("switching:rollout_apply"), follow=True)
    page = response.content.decode()
    assert "已按推进规则提交 2 人的账户切换，待复核" in page
    assert "维持原账户 2 人" in page and "待制卡或激活金融功能后切换 1 人" in page

    changes = {c.person_id: c for c in AccountChange.objects.all()}
    assert set(changes) == {people["young"].pk, people["old_asks"].pk}
    young = changes[people["young"].pk]
    assert (young.state, young.bank, young.account_no, young.account_name, young.prepared_by) == (
        "prepared",
        world.bank_a,
        "6228480000000000000",
        "青年甲",
        world.centre_clerk,
    )
    assert AuditLog.objects.filter(action="switching.change_prepare").count() == 2

    # again: nothing new (the two are pending; the others have not changed)
    client.post(reverse("switching:rollout_apply"))
    assert AccountChange.objects.count() == 2

    # the supervisor approves it like any other change: a new card account row from next month
    approved = account_change_approve(change_id=young.pk, actor=world.supervisor)
    account = PaymentAccount.objects.get(pk=approved.payment_account_id)
    assert (account.kind, account.source, account.account_no) == ("card", "switch", "6228480000000000000")


def test_only_the_centre_clerks_and_supervisors_apply_it(world: Any, client: Any, tmp_path: Path) -> None:
    _world(world, tmp_path)
    client.force_login(world.unit_clerk)
    assert client.post(reverse("switching:rollout_apply")).status_code == 403
    with pytest.raises(PermissionDenied):
        rollout_switches_prepare(actor=world.auditor, period=202611)
    with pytest.raises(PermissionDenied):
        rollout_switches_prepare(actor="系统", period=202611)
    assert not AccountChange.objects.exists()


def test_it_needs_a_comparison_first(world: Any, client: Any) -> None:
    client.force_login(world.centre_clerk)
    page = client.post(reverse("switching:rollout_apply"), follow=True).content.decode()
    assert "请先完成一次与卡系统的比对" in page
