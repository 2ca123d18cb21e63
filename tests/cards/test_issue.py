from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shebao.cards.models import CardAccountOffer, CardIssue, CardMovement, CardState, FinancialChannel
from shebao.cards.selectors import stock_cards
from shebao.cards.services import (
    Receiver,
    card_activate_financial,
    card_issue,
    card_issue_collective,
    card_notice_record,
    outlet_location,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.ssn import make_ssn
from shebao.people.models import PaymentAccount
from tests.cards.factories import make_application, make_card
from tests.factories import OutletFactory, PersonFactory, UserFactory

AGENT_SSN = make_ssn("341521", dt.date(1980, 3, 3), 123)
OTHER_SSN = make_ssn("341521", dt.date(1982, 4, 4), 456)


def holder(world) -> Receiver:
    return Receiver(
        name=world.person_a.name,
        ssn=world.person_a.ssn,
        phone="13800000000",
        address="甲镇1号",
        form_signed=True,
    )


@pytest.fixture
def card(world):
    app = make_application(world.person_a, world.bank_a, world.centre_clerk)
    return make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, application=app)


def test_it_issues_to_the_holder_and_activates_both_functions_on_the_spot(world, card) -> None:
    issue = card_issue(
        card=card,
        outlet=world.outlet_a,
        mode=CardIssue.Mode.PERSONAL,
        receiver=holder(world),
        activate_social=True,
        activate_financial=True,
        actor=world.bank_clerk,
    )
    card.refresh_from_db()
    assert card.state == CardState.ISSUED and issue.receiver_ssn == world.person_a.ssn
    assert card.ss_activated_at and card.fin_activated_at and card.fin_activated_place == world.outlet_a.name
    assert card.fin_activated_channel == FinancialChannel.COUNTER
    assert not stock_cards(outlet_location(world.outlet_a)).exists()
    assert CardMovement.objects.filter(card=card, kind=CardMovement.Kind.ISSUED).count() == 1


def test_it_financial_activation_offers_the_account_but_does_not_switch_payments(world, card) -> None:
    card_issue(
        card=card, outlet=world.outlet_a, mode="personal", receiver=holder(world), actor=world.bank_clerk
    )
    accounts_before = PaymentAccount.objects.count()
    card_activate_financial(
        card=card, channel=FinancialChannel.COUNTER, place="甲网点", actor=world.bank_clerk
    )
    again = card_activate_financial(
        card=card, channel=FinancialChannel.COUNTER, place="甲网点", actor=world.bank_clerk
    )
    offer = CardAccountOffer.objects.get()
    assert not again.changed
    assert (offer.person, offer.card, offer.bank, offer.state) == (
        world.person_a,
        card,
        world.bank_a,
        "offered",
    )
    assert offer.account_no == card.bank_account
    assert PaymentAccount.objects.count() == accounts_before


def test_it_only_the_co_brand_bank_activates_the_financial_function(world, card) -> None:
    card_issue(
        card=card, outlet=world.outlet_a, mode="personal", receiver=holder(world), actor=world.bank_clerk
    )
    other_bank_clerk = UserFactory(role="bank_clerk", region=None, bank=world.bank_b)
    with pytest.raises(PermissionDenied):
        card_activate_financial(
            card=card, channel=FinancialChannel.COUNTER, place="乙", actor=other_bank_clerk
        )


def test_it_refuses_a_receiver_who_is_not_the_holder_for_a_personal_pickup(world, card) -> None:
    with pytest.raises(ValidationError, match="领取人证件与持卡人不符"):
        card_issue(
            card=card,
            outlet=world.outlet_a,
            mode="personal",
            receiver=Receiver(
                name=world.person_b.name, ssn=world.person_b.ssn, phone="1", address="乙镇", form_signed=True
            ),
            actor=world.bank_clerk,
        )
    card.refresh_from_db()
    assert card.state == CardState.IN_STOCK and not CardIssue.objects.exists()


def test_it_a_reserved_agent_must_show_the_reserved_id(world) -> None:
    app = make_application(
        world.person_a,
        world.bank_a,
        world.centre_clerk,
        agent_name="王大力",
        agent_ssn=AGENT_SSN,
        agent_relation="child",
    )
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, application=app)
    with pytest.raises(ValidationError, match="不是申领时预留的代办人"):
        card_issue(
            card=card,
            outlet=world.outlet_a,
            mode="agent",
            receiver=Receiver(
                name="王大力", ssn=OTHER_SSN, relation="child", household_register=True, form_signed=True
            ),
            actor=world.bank_clerk,
        )
    issue = card_issue(
        card=card,
        outlet=world.outlet_a,
        mode="agent",
        receiver=Receiver(name="王大力", ssn=AGENT_SSN, form_signed=True, applicant_id_shown=True),
        activate_social=True,
        actor=world.bank_clerk,
    )
    card.refresh_from_db()
    assert issue.reserved_agent and card.state == CardState.ISSUED
    assert card.ss_activated_at is not None and card.fin_activated_at is None


def test_it_an_unreserved_agent_must_be_a_direct_relative_with_the_household_register(world, card) -> None:
    def issue(**kw):  # type: ignore[no-untyped-def]
        return card_issue(
            card=card,
            outlet=world.outlet_a,
            mode="agent",
            receiver=Receiver(name="王二", ssn=OTHER_SSN, form_signed=True, **kw),
            actor=world.bank_clerk,
        )

    with pytest.raises(ValidationError, match="直系亲属"):
        issue(relation="other", household_register=True)
    with pytest.raises(ValidationError, match="户口本"):
        issue(relation="spouse", household_register=False)
    done = issue(relation="spouse", household_register=True)
    assert done.household_register and done.relation == "spouse"


def test_it_an_agent_never_gets_the_financial_function(world, card) -> None:
    with pytest.raises(ValidationError, match="代办人领卡不能激活金融功能"):
        card_issue(
            card=card,
            outlet=world.outlet_a,
            mode="agent",
            receiver=Receiver(
                name="王二", ssn=OTHER_SSN, relation="child", household_register=True, form_signed=True
            ),
            activate_financial=True,
            actor=world.bank_clerk,
        )
    card.refresh_from_db()
    assert card.state == CardState.IN_STOCK and card.fin_activated_at is None


def test_it_refuses_a_card_that_is_not_in_this_outlets_stock(world) -> None:
    elsewhere = OutletFactory(region=world.region, bank=world.bank_a)
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=elsewhere)
    with pytest.raises(StateError, match="不在“.*”的库存中"):
        card_issue(
            card=card,
            outlet=world.outlet_a,
            mode="personal",
            receiver=holder(world),
            actor=world.centre_clerk,
        )


def test_it_refuses_a_card_still_at_the_centre(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.PRODUCED)
    with pytest.raises(StateError, match="库存中"):
        card_issue(
            card=card, outlet=world.outlet_a, mode="personal", receiver=holder(world), actor=world.bank_clerk
        )


def test_it_a_bank_clerk_cannot_issue_at_another_outlet(world) -> None:
    elsewhere = OutletFactory(region=world.region, bank=world.bank_a)
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=elsewhere)
    with pytest.raises(PermissionDenied):
        card_issue(
            card=card, outlet=elsewhere, mode="personal", receiver=holder(world), actor=world.bank_clerk
        )


# ---------------------------------------------------------------- unit collective pickup

CLERKS = (
    Receiver(name="赵会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
    Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
)


@pytest.fixture
def unit_cards(world):
    other = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    return [
        make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
        make_card(other, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
    ]


def _notice(world, sent: dt.datetime):  # type: ignore[no-untyped-def]
    return card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="phone", sent_at=sent, actor=world.bank_clerk
    )


def test_it_hands_a_units_cards_to_two_clerks_with_a_letter(world, unit_cards) -> None:
    # Monday 2024-05-13; five working days later is Monday 2024-05-20
    notice = _notice(world, timezone.make_aware(dt.datetime(2024, 5, 13, 9)))
    handover = card_issue_collective(
        card_ids=[c.pk for c in unit_cards],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="甲单位介字第12号",
        clerks=CLERKS,
        today=dt.date(2024, 5, 20),
        actor=world.bank_clerk,
    )
    assert handover.card_count == 2
    assert {c.state for c in type(unit_cards[0]).objects.filter(pk__in=[c.pk for c in unit_cards])} == {
        "issued"
    }
    assert CardIssue.objects.filter(handover=handover, mode="unit_collective").count() == 2


def test_it_refuses_a_collective_pickup_after_five_working_days(world, unit_cards) -> None:
    notice = _notice(world, timezone.make_aware(dt.datetime(2024, 5, 13, 9)))
    with pytest.raises(ValidationError, match="5个工作日"):
        card_issue_collective(
            card_ids=[c.pk for c in unit_cards],
            outlet=world.outlet_a,
            employer=world.unit_a,
            notice=notice,
            letter_no="12",
            clerks=CLERKS,
            today=dt.date(2024, 5, 21),
            actor=world.bank_clerk,
        )


def test_it_refuses_a_collective_pickup_of_another_units_card_or_by_one_clerk(world, unit_cards) -> None:
    notice = _notice(world, timezone.now())
    stranger = make_card(world.person_b, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    kw = {
        "outlet": world.outlet_a,
        "employer": world.unit_a,
        "notice": notice,
        "letter_no": "12",
        "actor": world.bank_clerk,
    }
    with pytest.raises(ValidationError, match="不是甲单位的人员"):
        card_issue_collective(card_ids=[unit_cards[0].pk, stranger.pk], clerks=CLERKS, **kw)
    with pytest.raises(ValidationError, match="两名不同"):
        card_issue_collective(card_ids=[unit_cards[0].pk], clerks=(CLERKS[0], CLERKS[0]), **kw)
    assert not CardIssue.objects.exists()


def test_it_the_unit_hands_back_the_cards_it_could_not_give_out(world, unit_cards) -> None:
    from shebao.cards.services import unit_handover_settle

    notice = _notice(world, timezone.now())
    handover = card_issue_collective(
        card_ids=[c.pk for c in unit_cards],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="12",
        clerks=CLERKS,
        actor=world.bank_clerk,
    )
    kept, returned = unit_cards
    settled = unit_handover_settle(
        handover=handover, returned_card_ids=[returned.pk], custodian="周柜员", actor=world.bank_clerk
    )
    kept.refresh_from_db()
    returned.refresh_from_db()
    assert settled.returned_count == 1 and settled.settled_at is not None
    assert kept.state == CardState.ISSUED and returned.state == CardState.IN_STOCK
    assert list(stock_cards(outlet_location(world.outlet_a))) == [returned]
    with pytest.raises(StateError, match="不能重复办理"):
        unit_handover_settle(
            handover=handover, returned_card_ids=[], custodian="周柜员", actor=world.bank_clerk
        )


def test_it_refuses_to_take_back_a_card_of_another_handover(world, unit_cards) -> None:
    from shebao.cards.services import unit_handover_settle

    notice = _notice(world, timezone.now())
    handover = card_issue_collective(
        card_ids=[unit_cards[0].pk],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="12",
        clerks=CLERKS,
        actor=world.bank_clerk,
    )
    with pytest.raises(ValidationError, match="不属于本移交单"):
        unit_handover_settle(
            handover=handover, returned_card_ids=[unit_cards[1].pk], custodian="周", actor=world.bank_clerk
        )
