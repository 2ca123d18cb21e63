"""Rollout policy as data: who switches automatically, who stays unless they ask, who is exempt."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.people.models import BenefitCategory
from shebao.switching.models import RolloutRule, SwitchPreference
from shebao.switching.rollout import (
    CardFacts,
    Decision,
    PersonFacts,
    card_facts,
    person_facts,
    switch_decision,
)
from shebao.switching.services import rollout_rule_save, switch_preference_record
from tests.switching.factories import beneficiary

CUTOFF = dt.date(1945, 1, 1)
PENSION = BenefitCategory.ENTERPRISE_RETIREE
INJURY = BenefitCategory.WORK_INJURY
CADRE = BenefitCategory.RETIRED_CADRE

# 佛山: pensions from 2015-06 for those born on or after 1945-01-01 with an activated card; work injury
# from 2015-07 for those living in the city; 离休干部 as before.
FOSHAN = [
    RolloutRule(category=PENSION, pays_from=201506, auto_born_on_or_after=CUTOFF),
    RolloutRule(category=INJURY, pays_from=201507, auto_requires_in_region=True),
    RolloutRule(category=CADRE, pays_from=201506, exempt=True),
]
ACTIVE = CardFacts(has_card=True, usable=True, fin_activated=True)


def facts(
    born: dt.date = dt.date(1950, 3, 1), *, inside: bool = True, categories: tuple[str, ...] = (PENSION,)
) -> PersonFacts:
    return PersonFacts(birth_date=born, lives_in_region=inside, categories=frozenset(categories))


def test_it_switches_a_pensioner_under_70_with_an_activated_card() -> None:
    assert switch_decision(facts(CUTOFF), ACTIVE, FOSHAN, None, period=201506)[0] == Decision.SWITCH


def test_it_keeps_a_pensioner_born_before_the_cutoff_unless_asked() -> None:
    decision, reason = switch_decision(facts(dt.date(1944, 12, 31)), ACTIVE, FOSHAN, None, period=201506)
    assert decision == Decision.STAY
    assert "1945年01月01日前出生" in reason
    assert (
        switch_decision(facts(dt.date(1944, 12, 31)), ACTIVE, FOSHAN, "switch", period=201506)[0]
        == Decision.SWITCH
    )


def test_it_keeps_a_work_injury_recipient_living_outside_the_region_unless_asked() -> None:
    outside = facts(inside=False, categories=(INJURY,))
    decision, reason = switch_decision(outside, ACTIVE, FOSHAN, None, period=201507)
    assert (decision, "居住在统筹区外" in reason) == (Decision.STAY, True)
    assert switch_decision(outside, ACTIVE, FOSHAN, "switch", period=201507)[0] == Decision.SWITCH
    assert (
        switch_decision(facts(categories=(INJURY,)), ACTIVE, FOSHAN, None, period=201507)[0]
        == Decision.SWITCH
    )


def test_it_never_switches_a_retired_cadre() -> None:
    cadre = facts(categories=(CADRE,))
    assert switch_decision(cadre, ACTIVE, FOSHAN, "switch", period=201601)[0] == Decision.EXEMPT


def test_it_waits_for_the_benefit_type_to_start_paying_through_the_card() -> None:
    assert (
        switch_decision(facts(categories=(INJURY,)), ACTIVE, FOSHAN, None, period=201506)[0]
        == Decision.NOT_YET
    )


def test_it_honours_a_request_to_stay() -> None:
    decision, reason = switch_decision(facts(), ACTIVE, FOSHAN, "stay", period=201506)
    assert (decision, reason) == (Decision.STAY, "本人申请维持原账户")


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        (None, "尚未制卡"),
        (CardFacts(has_card=False, usable=True, fin_activated=False), "尚未制卡"),
        (CardFacts(has_card=True, usable=False, fin_activated=True), "挂失"),
        (CardFacts(has_card=True, usable=True, fin_activated=False), "未激活"),
    ],
)
def test_it_waits_for_a_usable_activated_card(card: CardFacts | None, expected: str) -> None:
    decision, reason = switch_decision(facts(), card, FOSHAN, "switch", period=201506)
    assert decision == Decision.WAIT_CARD
    assert expected in reason


dates = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(1975, 12, 31))
categories = st.sets(st.sampled_from([PENSION, INJURY, CADRE, BenefitCategory.UNEMPLOYMENT]), min_size=1)
cards = st.one_of(st.none(), st.builds(CardFacts, st.booleans(), st.booleans(), st.booleans()))
preferences = st.sampled_from([None, "switch", "stay"])
periods = st.integers(2014, 2017).flatmap(lambda y: st.integers(1, 12).map(lambda m: y * 100 + m))


@settings(database=None, deadline=None, max_examples=60)
@given(dates, st.booleans(), categories, cards, preferences, periods)
def test_it_always_decides_with_a_reason(
    born: Any, inside: bool, cats: Any, card: Any, pref: Any, period: int
) -> None:
    decision, reason = switch_decision(
        facts(born, inside=inside, categories=tuple(cats)), card, FOSHAN, pref, period=period
    )
    assert decision in Decision.values
    assert reason


@settings(database=None, deadline=None, max_examples=60)
@given(dates, st.booleans(), categories, cards, preferences, periods)
def test_it_switches_only_with_an_activated_card_and_never_against_the_persons_wish(
    born: Any, inside: bool, cats: Any, card: Any, pref: Any, period: int
) -> None:
    decision, _ = switch_decision(
        facts(born, inside=inside, categories=tuple(cats)), card, FOSHAN, pref, period=period
    )
    if decision == Decision.SWITCH:
        assert card is not None and card.has_card and card.usable and card.fin_activated
        assert pref != "stay"
        assert CADRE not in cats
    if CADRE in cats and period >= 201506:
        assert decision == Decision.EXEMPT


@settings(database=None, deadline=None, max_examples=60)
@given(st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(1944, 12, 31)), st.booleans())
def test_it_never_switches_someone_over_70_on_the_pension_rule_alone(born: Any, inside: bool) -> None:
    decision, _ = switch_decision(facts(born, inside=inside), ACTIVE, FOSHAN, None, period=201601)
    assert decision == Decision.STAY


@pytest.mark.django_db
def test_it_keeps_rules_and_requests_as_audited_data(world: Any) -> None:
    rule = rollout_rule_save(
        actor=world.supervisor,
        category=PENSION,
        pays_from=201506,
        auto_born_on_or_after=CUTOFF,
        note="佛山",
    )
    rollout_rule_save(actor=world.supervisor, category=PENSION, pays_from=201506, auto_born_on_or_after=None)
    rule.refresh_from_db()
    assert rule.auto_born_on_or_after is None
    person = beneficiary(world.person_a)
    pref = switch_preference_record(
        actor=world.centre_clerk,
        person=person,
        choice="switch",
        asked_on=dt.date(2015, 6, 3),
        proof_note="本人申请书",
    )
    assert SwitchPreference.objects.get().choice == pref.choice == "switch"
    decision, _ = switch_decision(
        person_facts(person), card_facts(None), list(RolloutRule.objects.all()), pref.choice, period=201506
    )
    assert decision == Decision.WAIT_CARD
    from shebao.audit.models import AuditLog

    assert AuditLog.objects.filter(action="switching.rollout_rule_save").count() == 2
    assert AuditLog.objects.filter(action="switching.preference_record").count() == 1


@pytest.mark.django_db
def test_it_lets_a_supervisor_keep_the_rules_on_the_page(world: Any, client: Any) -> None:
    from django.urls import reverse

    client.force_login(world.supervisor)
    client.post(
        reverse("switching:rules"),
        {
            "category": PENSION,
            "pays_from": "201506",
            "auto_born_on_or_after": "1945-01-01",
            "requires_activated_card": "1",
            "note": "佛山：70周岁以下",
        },
    )
    rule = RolloutRule.objects.get()
    assert (rule.pays_from, rule.auto_born_on_or_after, rule.exempt) == (201506, CUTOFF, False)
    assert "佛山：70周岁以下" in client.get(reverse("switching:rules")).content.decode()
    client.force_login(world.centre_clerk)
    assert (
        client.post(reverse("switching:rules"), {"category": PENSION, "pays_from": "201507"}).status_code
        == 403
    )
    assert RolloutRule.objects.count() == 1


@pytest.mark.django_db
def test_it_records_a_request_on_the_page_and_tells_the_decision(world: Any, client: Any) -> None:
    from django.urls import reverse

    rollout_rule_save(
        actor=world.supervisor, category=PENSION, pays_from=201506, auto_born_on_or_after=CUTOFF
    )
    person = beneficiary(world.person_a)
    client.force_login(world.centre_clerk)
    response = client.post(
        reverse("switching:preferences"),
        {"ssn": person.ssn, "choice": "stay", "asked_on": "2026-11-02", "proof_note": "本人申请书"},
    )
    page = client.get(response.url).content.decode()
    assert "按现行规则：维持原账户（本人申请维持原账户）" in page
    assert "本人申请书" in page
    assert SwitchPreference.objects.get().person == person
    client.post(
        reverse("switching:preferences"),
        {"ssn": world.person_b.ssn[:10], "choice": "stay", "asked_on": "2026-11-02"},
    )
    assert SwitchPreference.objects.count() == 1
