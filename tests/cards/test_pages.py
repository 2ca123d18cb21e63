from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shebao.cards.models import CardIssue, CardState, UnitHandover
from shebao.core.values.ssn import make_ssn
from tests.cards.factories import make_card
from tests.factories import OutletFactory, PersonFactory, UserFactory


@pytest.fixture
def cards(world):
    outlet_b = OutletFactory(region=world.region, bank=world.bank_b, name="乙银行网点")
    return {
        "a": make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
        "b": make_card(world.person_b, world.bank_b, CardState.IN_STOCK, outlet=outlet_b),
        "outlet_b": outlet_b,
    }


def _page(client, user, url):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client.get(url)


def test_it_a_bank_clerk_sees_only_their_banks_cards(client, world, cards) -> None:
    page = _page(client, world.bank_clerk, reverse("cards:search"))
    assert page.status_code == 200
    assert cards["a"].card_no in page.content.decode() and cards["b"].card_no not in page.content.decode()
    assert client.get(reverse("cards:detail", args=[cards["a"].pk])).status_code == 200
    assert client.get(reverse("cards:detail", args=[cards["b"].pk])).status_code == 403


def test_it_another_banks_clerk_sees_the_other_side(client, world, cards) -> None:
    clerk_b = UserFactory(role="bank_clerk", region=None, bank=world.bank_b, outlet=cards["outlet_b"])
    page = _page(client, clerk_b, reverse("cards:search"))
    assert cards["b"].card_no in page.content.decode() and cards["a"].card_no not in page.content.decode()
    assert client.get(reverse("cards:detail", args=[cards["a"].pk])).status_code == 403
    stock = client.get(reverse("cards:stock")).content.decode()
    assert "乙银行网点" in stock and world.outlet_a.name not in stock


def test_it_a_bank_clerk_sees_the_holder_of_their_banks_card_in_people(client, world) -> None:
    # no payment account at bank A: only the card brings this person into the bank's scope
    person = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    url = reverse("people:detail", args=[person.pk])
    assert _page(client, world.bank_clerk, url).status_code == 403
    make_card(person, world.bank_a, CardState.PRODUCED)
    assert client.get(url).status_code == 200


def test_it_centre_unit_township_and_holder_scopes(client, world, cards) -> None:
    for user, sees_a, sees_b in [
        (world.centre_clerk, True, True),
        (world.unit_clerk, True, False),
        (world.township_clerk, True, False),
        (world.cardholder, True, False),
    ]:
        client.force_login(user)
        assert (client.get(reverse("cards:detail", args=[cards["a"].pk])).status_code == 200) is sees_a
        assert (client.get(reverse("cards:detail", args=[cards["b"].pk])).status_code == 200) is sees_b


def test_it_the_stock_page_derives_counts_from_the_ledger(client, world, cards) -> None:
    page = _page(client, world.centre_clerk, reverse("cards:stock")).content.decode()
    assert world.outlet_a.name in page and "乙银行网点" in page
    assert _page(client, world.unit_clerk, reverse("cards:stock")).status_code == 403


def test_it_a_bank_clerk_issues_a_card_from_the_page_and_prints_the_form(client, world, cards) -> None:
    client.force_login(world.bank_clerk)
    url = reverse("cards:issue", args=[cards["a"].pk])
    assert client.get(url).status_code == 200
    resp = client.post(
        url,
        {
            "mode": "personal",
            "receiver_name": world.person_a.name,
            "receiver_ssn": world.person_a.ssn,
            "phone": "13800000000",
            "address": "甲镇1号",
            "activate_social": "on",
            "activate_financial": "on",
            "form_signed": "on",
        },
    )
    issue = CardIssue.objects.get(card=cards["a"])
    assert resp.status_code == 302 and resp.url == reverse("cards:issue_print", args=[issue.pk])
    printed = client.get(resp.url).content.decode()
    assert "社会保障卡（个人）领取登记表" in printed and cards["a"].card_no in printed


def test_it_the_issue_page_shows_why_an_agent_is_refused(client, world, cards) -> None:
    client.force_login(world.bank_clerk)
    resp = client.post(
        reverse("cards:issue", args=[cards["a"].pk]),
        {
            "mode": "agent",
            "receiver_name": "王二",
            "receiver_ssn": make_ssn("341521", dt.date(1980, 1, 1), 7),
            "relation": "other",
        },
    )
    assert resp.status_code == 200 and "直系亲属" in resp.content.decode()
    assert not CardIssue.objects.exists()


def test_it_another_banks_clerk_cannot_open_the_issue_page(client, world, cards) -> None:
    assert _page(client, world.bank_clerk, reverse("cards:issue", args=[cards["b"].pk])).status_code == 403


def test_it_loss_from_the_card_page_is_idempotent_for_the_holder(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(world.cardholder)
    url = reverse("cards:action", args=[card.pk])
    client.post(url, {"action": "loss_temporary"})
    page = client.post(url, {"action": "loss_temporary"}, follow=True).content.decode()
    assert "该卡已处于临时挂失状态" in page
    card.refresh_from_db()
    assert card.state == CardState.TEMPORARILY_LOST
    assert client.post(url, {"action": "replace"}).status_code == 403


def test_it_unit_collective_pickup_from_notice_to_printed_handover(client, world) -> None:
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="陈同事"
    )
    unit_cards = [
        make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
        make_card(colleague, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
    ]
    client.force_login(world.bank_clerk)
    url = reverse("cards:collective")
    assert "甲单位" in client.get(url).content.decode()
    client.post(url, {"employer": world.unit_a.pk, "step": "notice", "channel": "phone", "note": "请来领卡"})
    page = client.get(f"{url}?employer={world.unit_a.pk}")
    notice = page.context["notices"][0]
    resp = client.post(
        url,
        {
            "employer": world.unit_a.pk,
            "step": "handover",
            "notice": notice.pk,
            "letter_no": "甲单位介字12号",
            "clerk1_name": "赵会计",
            "clerk1_ssn": make_ssn("341521", dt.date(1975, 1, 1), 11),
            "clerk2_name": "钱出纳",
            "clerk2_ssn": make_ssn("341521", dt.date(1976, 2, 2), 22),
            "card": [c.pk for c in unit_cards],
        },
    )
    handover = UnitHandover.objects.get()
    assert resp.status_code == 302 and handover.card_count == 2
    printed = client.get(resp.url).content.decode()
    assert "集中领卡移交单" in printed and "陈同事" in printed and "甲单位介字12号" in printed
    # the unit's own clerk can read the handover, another unit's cannot
    other_unit_clerk = UserFactory(role="unit_clerk", region=None, employer=world.unit_b)
    assert _page(client, world.unit_clerk, resp.url).status_code == 200
    assert _page(client, other_unit_clerk, resp.url).status_code == 403


def test_it_the_unit_reports_back_from_the_collective_page(client, world) -> None:
    from shebao.cards.services import Receiver, card_issue_collective, card_notice_record

    colleague = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    given = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    back = make_card(colleague, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="fax", actor=world.bank_clerk
    )
    handover = card_issue_collective(
        card_ids=[given.pk, back.pk],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="12",
        clerks=(
            Receiver(name="赵会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
            Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
        ),
        actor=world.bank_clerk,
    )
    client.force_login(world.bank_clerk)
    url = reverse("cards:collective")
    assert f'name="handover" value="{handover.pk}"' in client.get(url).content.decode()
    client.post(
        url, {"step": "settle", "handover": handover.pk, "handed_out": [given.pk], "custodian": "周柜员"}
    )
    given.refresh_from_db()
    back.refresh_from_db()
    assert (given.state, back.state) == (CardState.ISSUED, CardState.IN_STOCK)
    assert f'name="handover" value="{handover.pk}"' not in client.get(url).content.decode()
