"""Personal and agent pickup: what was checked and signed is required and kept on the issue record."""

from __future__ import annotations

import pytest

from shebao.cards.models import CardIssue, CardState
from shebao.cards.services import Receiver, card_issue
from shebao.core.errors import ValidationError
from tests.cards.factories import make_application, make_card
from tests.cards.test_issue import AGENT_SSN, OTHER_SSN


@pytest.fixture
def card(world):
    app = make_application(
        world.person_a,
        world.bank_a,
        world.centre_clerk,
        agent_name="王大力",
        agent_ssn=AGENT_SSN,
        agent_relation="child",
    )
    return make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, application=app)


def _issue(world, card, mode: str, receiver: Receiver, **kw):  # type: ignore[no-untyped-def]
    return card_issue(
        card=card, outlet=world.outlet_a, mode=mode, receiver=receiver, actor=world.bank_clerk, **kw
    )


def _holder(world, **kw) -> Receiver:  # type: ignore[no-untyped-def]
    base = {
        "name": world.person_a.name,
        "ssn": world.person_a.ssn,
        "phone": "13800000000",
        "address": "甲镇1号",
    }
    return Receiver(**{**base, "form_signed": True, **kw})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": ""}, "联系电话和住址"),
        ({"address": " "}, "联系电话和住址"),
        ({"form_signed": False}, "附件5"),
    ],
)
def test_a_personal_pickup_needs_phone_address_and_the_signed_form(world, card, changes, message) -> None:
    with pytest.raises(ValidationError, match=message):
        _issue(world, card, "personal", _holder(world, **changes))
    card.refresh_from_db()
    assert card.state == CardState.IN_STOCK and not CardIssue.objects.exists()


def test_a_personal_pickup_keeps_what_was_confirmed_and_the_bank_activates_on_the_spot(world, card) -> None:
    issue = _issue(world, card, "personal", _holder(world), activate_financial=True)
    card.refresh_from_db()
    assert (issue.phone, issue.address, issue.form_signed, issue.id_checked) == (
        "13800000000",
        "甲镇1号",
        True,
        True,
    )
    assert card.fin_activated_by == world.bank_clerk


def test_a_reserved_agent_shows_the_applicants_id_too(world, card) -> None:
    agent = Receiver(name="王大力", ssn=AGENT_SSN, form_signed=True)
    with pytest.raises(ValidationError, match="申领人身份证"):
        _issue(world, card, "agent", agent)
    issue = _issue(
        world,
        card,
        "agent",
        Receiver(name="王大力", ssn=AGENT_SSN, form_signed=True, applicant_id_shown=True),
    )
    assert issue.reserved_agent and issue.applicant_id_shown and not issue.household_register


def test_a_relative_without_reservation_shows_the_household_register(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    with pytest.raises(ValidationError, match="户口本"):
        _issue(
            world, card, "agent", Receiver(name="王二", ssn=OTHER_SSN, relation="spouse", form_signed=True)
        )
    issue = _issue(
        world,
        card,
        "agent",
        Receiver(name="王二", ssn=OTHER_SSN, relation="spouse", household_register=True, form_signed=True),
    )
    assert issue.household_register and not issue.applicant_id_shown


def test_the_issue_page_asks_for_the_checks_and_prints_them(client, world, card) -> None:
    client.force_login(world.bank_clerk)
    url = f"/cards/{card.pk}/issue/"
    page = client.get(url).content.decode()
    assert 'name="form_signed"' in page and 'name="applicant_id_shown"' in page
    base = {"mode": "agent", "receiver_name": "王大力", "receiver_ssn": AGENT_SSN, "form_signed": "on"}
    refused = client.post(url, base)
    assert refused.status_code == 200 and "申领人身份证" in refused.content.decode()
    done = client.post(url, {**base, "applicant_id_shown": "on"})
    issue = CardIssue.objects.get(card=card)
    assert done.status_code == 302 and issue.applicant_id_shown
    assert "代办人及申领人身份证" in client.get(done.url).content.decode()
