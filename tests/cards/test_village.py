from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shebao.cards.models import CardIssue, CardState, FinancialChannel, SocialChannel
from shebao.cards.selectors import village_cards
from shebao.cards.services import (
    Receiver,
    VillageChecks,
    card_issue_village,
    village_session_close,
    village_session_plan,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.orgs.models import Outlet
from tests.cards.factories import make_card
from tests.factories import OutletFactory

ALL_CHECKED = VillageChecks(id_checked=True, photo_checked=True, address_checked=True, form_signed=True)


@pytest.fixture
def station(world):
    return OutletFactory(
        region=world.region,
        kind=Outlet.Kind.GRASSROOTS_STATION,
        bank=None,
        township=world.town_a,
        name="甲镇人社站",
    )


@pytest.fixture
def session(world, station):
    return village_session_plan(
        outlet=station,
        township=world.town_a,
        held_on=timezone.localdate(),
        place="甲镇东村村委会",
        villages="东村、西村",
        notified_by="村委会广播",
        station_officer="赵专员",
        bank_officer="钱经理",
        actor=world.township_clerk,
    )


@pytest.fixture
def card(world, station):
    return make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=station)


def holder(world) -> Receiver:
    return Receiver(
        name=world.person_a.name, ssn=world.person_a.ssn, phone="13900000000", address="甲镇东村3组"
    )


def test_it_issues_at_the_session_and_activates_by_mobile_terminal_with_a_password_change(
    world, session, card
) -> None:
    issue = card_issue_village(
        session=session,
        card=card,
        receiver=holder(world),
        checks=ALL_CHECKED,
        activate_financial=True,
        password_changed=True,
        actor=world.township_clerk,
    )
    card.refresh_from_db()
    assert issue.mode == CardIssue.Mode.VILLAGE and issue.village_session == session
    assert issue.id_checked and issue.photo_checked and issue.address_checked and issue.form_signed
    assert issue.password_changed
    assert card.state == CardState.ISSUED
    assert card.ss_activated_channel == SocialChannel.TOWNSHIP_STATION
    assert (
        card.fin_activated_channel == FinancialChannel.MOBILE_TERMINAL
        and "钱经理" in card.fin_activated_place
    )
    assert not village_cards(session).exists()


def test_it_refuses_an_issue_until_id_photo_and_address_are_checked_and_the_form_signed(
    world, session, card
) -> None:
    with pytest.raises(ValidationError, match="照片、住址信息"):
        card_issue_village(
            session=session,
            card=card,
            receiver=holder(world),
            checks=VillageChecks(id_checked=True, form_signed=True),
            actor=world.township_clerk,
        )
    with pytest.raises(ValidationError, match="签字"):
        card_issue_village(
            session=session,
            card=card,
            receiver=holder(world),
            checks=VillageChecks(id_checked=True, photo_checked=True, address_checked=True),
            actor=world.township_clerk,
        )
    card.refresh_from_db()
    assert card.state == CardState.IN_STOCK


def test_it_refuses_a_mobile_activation_without_a_password_change(world, session, card) -> None:
    with pytest.raises(ValidationError, match="修改密码"):
        card_issue_village(
            session=session,
            card=card,
            receiver=holder(world),
            checks=ALL_CHECKED,
            activate_financial=True,
            actor=world.township_clerk,
        )


def test_it_refuses_someone_else_another_day_or_after_the_session_closed(world, session, card) -> None:
    other = Receiver(name=world.person_b.name, ssn=world.person_b.ssn)
    with pytest.raises(ValidationError, match="本人领取"):
        card_issue_village(
            session=session, card=card, receiver=other, checks=ALL_CHECKED, actor=world.township_clerk
        )
    with pytest.raises(ValidationError, match="只能在当日"):
        card_issue_village(
            session=session,
            card=card,
            receiver=holder(world),
            checks=ALL_CHECKED,
            actor=world.township_clerk,
            today=timezone.localdate() + dt.timedelta(days=1),
        )
    village_session_close(session=session, actor=world.township_clerk)
    with pytest.raises(StateError, match="已结束"):
        card_issue_village(
            session=session, card=card, receiver=holder(world), checks=ALL_CHECKED, actor=world.township_clerk
        )


def test_it_refuses_a_plan_in_the_past_or_for_another_township(world, station) -> None:
    kw = dict(
        outlet=station,
        place="东村",
        villages="东村",
        notified_by="村委会",
        station_officer="赵",
        bank_officer="钱",
    )
    with pytest.raises(ValidationError, match="早于今天"):
        village_session_plan(
            township=world.town_a,
            held_on=timezone.localdate() - dt.timedelta(days=1),
            actor=world.township_clerk,
            **kw,
        )
    with pytest.raises(PermissionDenied):
        village_session_plan(
            township=world.town_b, held_on=timezone.localdate(), actor=world.township_clerk, **kw
        )


def test_it_runs_a_session_from_the_pages(client, world, station, card) -> None:
    client.force_login(world.township_clerk)
    assert "进村发放" in client.get("/cards/village/").content.decode()
    r = client.post(
        "/cards/village/",
        {
            "outlet": station.pk,
            "township": world.town_a.pk,
            "held_on": timezone.localdate().isoformat(),
            "place": "东村村委会",
            "villages": "东村",
            "notified_by": "村委会广播",
            "station_officer": "赵专员",
            "bank_officer": "钱经理",
        },
    )
    assert r.status_code == 302
    detail = client.get(r["Location"]).content.decode()
    assert card.card_no in detail and world.person_a.ssn not in detail
    client.post(
        r["Location"],
        {
            "step": "issue",
            "card": card.pk,
            "receiver_name": world.person_a.name,
            "receiver_ssn": world.person_a.ssn,
            "id_checked": "on",
            "photo_checked": "on",
            "address_checked": "on",
            "form_signed": "on",
            "activate_financial": "on",
            "password_changed": "on",
        },
    )
    card.refresh_from_db()
    assert card.state == CardState.ISSUED and card.fin_activated_channel == "mobile_terminal"
    assert "已改密" in client.get(r["Location"]).content.decode()
