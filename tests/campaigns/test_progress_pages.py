"""The card progress page: figures per outlet, unit and township, scoped by role, chart and xlsx."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from shebao.cards.models import Card, CardRecall, CardState
from shebao.cards.services import card_recall, outlet_location
from tests.cards.factories import make_card
from tests.factories import OutletFactory, PersonFactory


@pytest.fixture
def cards(world):  # type: ignore[no-untyped-def]
    """甲银行网点: A's card issued and activated, a card of 甲单位 waiting 40 days, one of B arrived today.
    乙银行网点 holds a card of B's unit."""
    outlet_b = OutletFactory(region=world.region, bank=world.bank_b, name="乙银行网点")
    issued = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    Card.objects.filter(pk=issued.pk).update(ss_activated_at=timezone.now(), fin_activated_at=timezone.now())
    from shebao.cards.models import CardIssue

    CardIssue.objects.create(
        card=issued,
        outlet=world.outlet_a,
        mode=CardIssue.Mode.PERSONAL,
        receiver_name=world.person_a.name,
        receiver_ssn=world.person_a.ssn,
        issued_at=timezone.now(),
        created_by=world.centre_clerk,
    )
    old_waiter = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="孙久等"
    )
    waiting = make_card(
        old_waiter,
        world.bank_a,
        CardState.IN_STOCK,
        outlet=world.outlet_a,
        moved_at=timezone.now() - dt.timedelta(days=40),
    )
    fresh = make_card(world.person_b, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    other = PersonFactory(region=world.region, employer=world.unit_b, township=world.town_b, name="周乙")
    elsewhere = make_card(other, world.bank_b, CardState.IN_STOCK, outlet=outlet_b)
    return {
        "issued": issued,
        "waiting": waiting,
        "fresh": fresh,
        "elsewhere": elsewhere,
        "outlet_b": outlet_b,
    }


def _rows(page):  # type: ignore[no-untyped-def]
    html = page.content.decode()
    body = html.split('id="progress-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for tr in body.split("<tr>")[1:]:
        cells = [c.split("</td>", 1)[0].rsplit(">", 1)[-1] for c in tr.split("<td")[1:]]
        rows[cells[0]] = [int(c) for c in cells[1:]]
    return rows


def _get(client, user, **params):  # type: ignore[no-untyped-def]
    client.force_login(user)
    page = client.get(reverse("campaigns:progress"), params)
    assert page.status_code == 200
    return page


# columns: in stock, waiting > N days, issued, social, financial, error cards, temp cards outstanding


def test_it_shows_the_centre_every_outlet(client, world, cards):
    rows = _rows(_get(client, world.centre_clerk, by="outlet", days=30))

    assert rows[world.outlet_a.name] == [2, 1, 1, 1, 1, 0, 0]
    assert rows["乙银行网点"] == [1, 0, 0, 0, 0, 0, 0]


def test_it_counts_waiting_cards_by_the_days_given(client, world, cards):
    assert _rows(_get(client, world.centre_clerk, by="outlet", days=50))[world.outlet_a.name][1] == 0
    assert _rows(_get(client, world.centre_clerk, by="outlet", days=0))[world.outlet_a.name][1] == 2


def test_it_groups_by_unit_and_by_township(client, world, cards):
    units = _rows(_get(client, world.centre_clerk, by="unit", days=30))
    towns = _rows(_get(client, world.centre_clerk, by="township", days=30))

    assert units["甲单位"] == [1, 1, 1, 1, 1, 0, 0]
    assert units["乙单位"] == [2, 0, 0, 0, 0, 0, 0]
    assert towns["甲镇"] == [1, 1, 1, 1, 1, 0, 0]


def test_a_unit_clerk_sees_only_their_unit(client, world, cards):
    rows = _rows(_get(client, world.unit_clerk, by="unit", days=30))

    assert list(rows) == ["甲单位"]
    outlets = _rows(_get(client, world.unit_clerk, by="outlet", days=30))
    assert list(outlets) == [world.outlet_a.name] and outlets[world.outlet_a.name][0] == 1


def test_a_township_clerk_sees_only_their_township(client, world, cards):
    assert list(_rows(_get(client, world.township_clerk, by="township", days=30))) == ["甲镇"]


def test_a_bank_clerk_sees_their_bank_and_outlet(client, world, cards):
    rows = _rows(_get(client, world.bank_clerk, by="outlet", days=30))

    assert list(rows) == [world.outlet_a.name]


def test_a_cardholder_may_not_see_the_figures(client, world, cards):
    client.force_login(world.cardholder)
    assert client.get(reverse("campaigns:progress")).status_code == 403


def test_error_cards_are_counted_where_they_were_recalled(client, world, cards):
    card_recall(
        card=cards["fresh"],
        kind=CardRecall.Kind.ERROR,
        reason="姓名有误",
        actor=world.centre_clerk,
        outlet=world.outlet_a,
    )
    assert outlet_location(world.outlet_a)

    rows = _rows(_get(client, world.centre_clerk, by="outlet", days=30))

    assert rows[world.outlet_a.name][5] == 1


def test_the_chart_data_is_embedded_as_json(client, world, cards):
    page = _get(client, world.centre_clerk, by="outlet", days=30)
    html = page.content.decode()

    data = html.split('<script id="chart-progress" type="application/json">', 1)[1].split("</script>", 1)[0]
    chart = json.loads(data)
    assert world.outlet_a.name in chart["yAxis"]["data"]
    assert "vendor/echarts.min.js" in html


def test_the_figures_export_as_xlsx(client, world, cards):
    client.force_login(world.centre_clerk)
    response = client.get(reverse("campaigns:progress"), {"by": "unit", "days": 30, "export": "xlsx"})

    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0][:3] == ["参保单位", "网点待领", "待领超过30天"]
    assert rows[-1][0] == "合计" and rows[-1][1] == 3


def test_temporary_cards_outstanding_are_counted(client, world, cards):
    from shebao.cards.models import TempCard

    TempCard.objects.create(
        person=world.person_a, temp_no="LS0001", issued_on=dt.date(2024, 1, 5), created_by=world.centre_clerk
    )

    assert _rows(_get(client, world.centre_clerk, by="township", days=30))["甲镇"][6] == 1
