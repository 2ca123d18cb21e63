from __future__ import annotations

import datetime as dt

import pytest

from shebao.audit.models import AuditLog
from shebao.cards import actions
from shebao.cards.models import CardState, DeliveryMode
from shebao.cards.services import card_apply
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.ssn import make_ssn

AGENT = make_ssn("341521", dt.date(1980, 3, 3), 123)


def test_it_accepts_an_application_with_a_reserved_agent(world) -> None:
    card = card_apply(
        person=world.person_a,
        bank=world.bank_a,
        delivery=DeliveryMode.OUTLET_PICKUP,
        outlet=world.outlet_a,
        agent_name="王大力",
        agent_ssn=AGENT,
        agent_relation="child",
        actor=world.centre_clerk,
    )
    assert card.state == CardState.APPLIED and card.card_no is None
    assert card.application.agent_ssn == AGENT and card.application.has_reserved_agent
    assert AuditLog.objects.filter(action=actions.CARD_APPLY, object_id=str(card.pk)).count() == 1


def test_it_refuses_a_second_live_card_of_the_same_generation(world) -> None:
    card_apply(
        person=world.person_a,
        bank=world.bank_a,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        actor=world.centre_clerk,
    )
    with pytest.raises(StateError, match="请先正式挂失再补卡"):
        card_apply(
            person=world.person_a,
            bank=world.bank_b,
            delivery=DeliveryMode.UNIT_COLLECTIVE,
            actor=world.centre_clerk,
        )
    # a second-generation card alongside is a different generation
    card_apply(
        person=world.person_a,
        bank=world.bank_a,
        generation=2,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        actor=world.centre_clerk,
    )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"delivery": DeliveryMode.MAIL}, "邮寄地址"),
        ({"delivery": DeliveryMode.OUTLET_PICKUP}, "领卡网点"),
        ({"agent_name": "王大力", "agent_ssn": "123"}, "社会保障号码"),
        ({"agent_name": "", "agent_ssn": AGENT, "agent_relation": "child"}, "代办人姓名"),
        ({"agent_name": "王大力", "agent_ssn": AGENT}, "关系"),
    ],
)
def test_it_refuses_an_incomplete_application(world, kw, message) -> None:
    kw.setdefault("delivery", DeliveryMode.UNIT_COLLECTIVE)
    with pytest.raises(ValidationError, match=message):
        card_apply(person=world.person_a, bank=world.bank_a, actor=world.centre_clerk, **kw)


def test_it_refuses_a_pickup_outlet_of_another_bank(world) -> None:
    with pytest.raises(ValidationError, match="不是"):
        card_apply(
            person=world.person_a,
            bank=world.bank_b,
            delivery=DeliveryMode.OUTLET_PICKUP,
            outlet=world.outlet_a,
            actor=world.centre_clerk,
        )


def test_it_refuses_the_agent_being_the_applicant(world) -> None:
    with pytest.raises(ValidationError, match="不能是申领人本人"):
        card_apply(
            person=world.person_a,
            bank=world.bank_a,
            delivery=DeliveryMode.UNIT_COLLECTIVE,
            agent_name=world.person_a.name,
            agent_ssn=world.person_a.ssn,
            agent_relation="child",
            actor=world.centre_clerk,
        )


def test_it_a_window_outside_the_region_cannot_accept(world) -> None:
    from tests.factories import RegionFactory, UserFactory

    other_region = RegionFactory(code="340422", name="寿县（新）")
    far_clerk = UserFactory(role="centre_clerk", region=other_region)
    with pytest.raises(PermissionDenied):
        card_apply(
            person=world.person_a, bank=world.bank_a, delivery=DeliveryMode.UNIT_COLLECTIVE, actor=far_clerk
        )
